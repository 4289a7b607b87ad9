"""The reply policy in seven languages: money granted or promised, account changes claimed as done, dates promised;
and the replies that only explain (the help centre's articles, the offline responder's) go out."""

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from nightshift.ingest.samples import day_tickets
from nightshift.llm import offline, prompts
from nightshift.safety.outbound import amounts, normalise, parse_number, violations

HELP_CENTRE = Path(__file__).resolve().parents[1] / "nightshift" / "data" / "help_centre"

# Money granted or promised, no amount or one within the policy: held on a route not trusted with money.
MONEY = {
    "en": [
        "I've approved your full refund.",
        "We have issued a refund to your original payment method.",
        "I'm refunding the shipping cost now.",
        "We'll send you a voucher for your next order.",
        "As an exception, we will cover the return shipping.",
        "Here is a discount code for your trouble: SORRY15.",
        "Your refund has been processed and should show up soon.",
        "You'll receive a full refund on your card.",
        "I have gone ahead and credited your account.",
        "Use code WELCOME10 at checkout for 10% off.",
        "We are happy to offer you store credit for the inconvenience.",
        "You have been refunded in full.",
    ],
    "de": [
        "Ich habe Ihnen den vollen Betrag erstattet.",
        "Wir haben Ihnen eine Gutschrift ausgestellt.",
        "Ihre Rückerstattung wurde soeben veranlasst.",
        "Ausnahmsweise übernehmen wir die Versandkosten.",
        "Wir werden Ihnen den Kaufpreis zurückerstatten.",
        "Sie erhalten einen Gutschein über den Differenzbetrag.",
    ],
    "fr": [
        "J'ai approuvé votre remboursement intégral.",
        "Nous vous rembourserons les frais de port.",
        "Votre remboursement a été effectué ce matin.",
        "À titre exceptionnel, nous vous offrons un bon d'achat.",
        "Vous recevrez un avoir sur votre compte client.",
        "Je vais vous rembourser la différence.",
    ],
    "es": [
        "Le he reembolsado el importe completo.",
        "Hemos aprobado su reembolso.",
        "Le reembolsaremos los gastos de envío.",
        "Su reembolso ha sido procesado.",
        "De forma excepcional, le enviamos un cupón de descuento.",
        "Recibirá un reembolso completo en su tarjeta.",
    ],
    "it": [
        "Ho approvato il rimborso completo.",
        "Le rimborseremo le spese di spedizione.",
        "Il suo rimborso è stato emesso oggi.",
        "In via eccezionale le abbiamo inviato un buono sconto.",
        "Riceverà un rimborso sulla carta usata per l'acquisto.",
        "Abbiamo già accreditato l'importo sul suo conto.",
    ],
    "pt": [
        "Aprovei o seu reembolso integral.",
        "Vamos reembolsar o valor do frete.",
        "O seu reembolso foi processado hoje.",
        "Excepcionalmente, enviamos um cupom de desconto para você.",
        "Você receberá um reembolso no cartão usado na compra.",
        "Já estornamos a cobrança duplicada.",
    ],
    "nl": [
        "Ik heb het volledige bedrag terugbetaald.",
        "We zullen u de verzendkosten vergoeden.",
        "Uw terugbetaling is goedgekeurd.",
        "Bij wijze van uitzondering sturen wij u een tegoedbon.",
        "U ontvangt een kortingscode voor uw volgende bestelling.",
        "We hebben het bedrag vandaag teruggestort.",
    ],
}

# Amounts in digits or words, any currency and notation, promised above the policy's 50: held on any route.
AMOUNTS = [
    ("I've approved your full refund of $480.", 480),
    ("I've approved your full refund of $480.00.", 480),
    ("We will refund you 1,250.50 USD today.", 1250.5),
    ("We'll send you four hundred and eighty dollars.", 480),
    ("As an exception I've credited you a hundred pounds.", 100),
    ("I have issued a refund of £75.", 75),
    ("We've refunded CHF 120 to your card.", 120),
    ("We have refunded ¥8000 to your card.", 8000),
    ("I have refunded 300 kr to your account.", 300),
    ("We have refunded 200 zł to your card.", 200),
    ("You'll get 99 euros back on your card.", 99),
    ("We will reimburse 2 500 pesos.", 2500),
    ("Ich habe Ihnen 480,00 € erstattet.", 480),
    ("Wir haben Ihnen 1.250,00 € gutgeschrieben.", 1250),
    ("Wir werden Ihnen fünfzig Euro erstatten.", 50.0),   # at the limit: not above it
    ("Wir haben Ihnen vierhundertachtzig Euro erstattet.", 480),
    ("Nous vous rembourserons cent euros.", 100),
    ("Je vous ai remboursé 89,90 EUR.", 89.9),
    ("Nous vous rembourserons quatre-vingt-dix euros.", 90),
    ("Le hemos reembolsado 480 dólares.", 480),
    ("Le reembolsaremos doscientos euros.", 200),
    ("Le rimborseremo cento euro.", 100),
    ("Abbiamo accreditato 75 € sul suo conto.", 75),
    ("Reembolsamos R$ 300,00 na sua conta.", 300),
    ("Vamos reembolsar cem euros.", 100),
    ("Ik heb € 120,- teruggestort.", 120),
    ("We zullen u honderd euro vergoeden.", 100),
]

# Account changes claimed as done, and the words a reviewer sees.
ACCOUNT = {
    "en": [
        ("I've gone ahead and closed your account.", "I've gone ahead and closed your account"),
        ("Your e-mail is now updated.", "Your e-mail is now updated"),
        ("We have cancelled your subscription as requested.", "We have cancelled your subscription"),
        ("I've reset the password on your account, check your inbox.", "I've reset the password"),
        ("Your account has been successfully deleted.", "Your account has been successfully deleted"),
        ("I changed the delivery address on order 4411 to the new one.", "I changed the delivery address"),
    ],
    "de": [
        ("Ihr Konto wurde gelöscht.", "Ihr Konto wurde gelöscht"),
        ("Ich habe Ihr Passwort zurückgesetzt.", "Ich habe Ihr Passwort zurückgesetzt"),
        ("Wir haben Ihr Abonnement gekündigt.", "Wir haben Ihr Abonnement gekündigt"),
        ("Ihre E-Mail-Adresse ist jetzt aktualisiert.", "Ihre E-Mail-Adresse ist jetzt aktualisiert"),
    ],
    "fr": [
        ("J'ai réinitialisé votre mot de passe.", "J'ai réinitialisé votre mot de passe"),
        ("Votre compte a été supprimé.", "Votre compte a été supprimé"),
        ("Nous avons annulé votre commande.", "Nous avons annulé votre commande"),
        ("Votre abonnement est désormais résilié.", "Votre abonnement est désormais résilié"),
    ],
    "es": [
        ("Hemos cancelado su suscripción.", "Hemos cancelado su suscripción"),
        ("Su cuenta ha sido eliminada.", "Su cuenta ha sido eliminada"),
        ("He actualizado su dirección de envío.", "He actualizado su dirección de envío"),
        ("Se ha cerrado su cuenta.", "Se ha cerrado su cuenta"),
    ],
    "it": [
        ("Ho eliminato il suo account.", "Ho eliminato il suo account"),
        ("Il suo abbonamento è stato disdetto.", "Il suo abbonamento è stato disdetto"),
        ("Abbiamo aggiornato il suo indirizzo email.", "Abbiamo aggiornato il suo indirizzo email"),
    ],
    "pt": [
        ("Encerramos a sua conta.", "Encerramos a sua conta"),
        ("A sua senha foi redefinida.", "A sua senha foi redefinida"),
        ("Cancelei a sua assinatura.", "Cancelei a sua assinatura"),
    ],
    "nl": [
        ("Ik heb uw account verwijderd.", "Ik heb uw account verwijderd"),
        ("Uw wachtwoord is gereset.", "Uw wachtwoord is gereset"),
        ("We hebben je abonnement opgezegd.", "We hebben je abonnement opgezegd"),
    ],
}

# Dates and deadlines promised.
DATES = {
    "en": [
        "Your replacement will arrive by Friday.",
        "Delivery is guaranteed within 24 hours.",
        "You will receive it on 12 December.",
        "The fix will be live tomorrow.",
        "I promise the parcel reaches you before the end of the week.",
        "Your order will be delivered on March 3rd.",
    ],
    "de": [
        "Lieferung bis Montag garantiert.",
        "Ihr Paket wird am Freitag zugestellt.",
        "Sie erhalten die Ware spätestens am 12. Dezember.",
    ],
    "fr": [
        "Votre colis arrivera vendredi.",
        "Vous le recevrez d'ici demain.",
        "Livraison garantie sous 48 heures.",
    ],
    "es": [
        "Su pedido llegará el viernes.",
        "Lo recibirá mañana sin falta.",
        "Entrega garantizada en 24 horas.",
    ],
    "it": [
        "Il pacco arriverà entro venerdì.",
        "Riceverà il rimborso entro domani.",
        "Consegna garantita entro 48 ore.",
    ],
    "pt": [
        "Seu pedido chegará até sexta-feira.",
        "Você receberá o produto amanhã.",
        "Entrega garantida em 24 horas.",
    ],
    "nl": [
        "Uw pakket wordt morgen bezorgd.",
        "Levering gegarandeerd binnen 24 uur.",
        "U ontvangt de bestelling uiterlijk vrijdag.",
    ],
}

# Look-alikes that explain policy or self-service, quote the customer or refuse: they go out on any route.
EXPLAINS = {
    "en": [
        "Refunds are usually processed within 5-7 business days once approved.",
        "You can request a refund from the Orders page.",
        "To reset your password, click 'Forgot password'.",
        "If your order hasn't arrived within 10 days, contact us.",
        "We can't guarantee delivery by Friday, but tracking will show the latest status.",
        "I haven't changed your password; you can do it under Settings, Security.",
        "Once we approve your refund, you'll get an email.",
        "Shipping costs $4.95 on orders under $50.",
        "You asked whether we have approved your refund; a colleague will check.",
        "I understand you were charged $349 twice, which must be frustrating.",
        "Your refund request is with our billing team.",
        "You can update your e-mail address under Account settings.",
        "A refund usually reaches your card 5 to 10 working days after we receive the return.",
        "Here is how refunds work: start a return from the Orders page.",
        "Deleting your account removes your order history.",
        "Standard delivery takes 3 to 5 working days.",
    ],
    "de": [
        "Erstattungen werden in der Regel innerhalb von 5-7 Werktagen nach Genehmigung bearbeitet.",
        "Sie können eine Erstattung über die Seite Bestellungen beantragen.",
        "Um Ihr Passwort zurückzusetzen, klicken Sie auf 'Passwort vergessen'.",
        "Falls Ihre Bestellung nicht innerhalb von 10 Tagen ankommt, kontaktieren Sie uns.",
        "Ihr Konto können Sie unter Einstellungen löschen.",
        "Die Lieferung dauert normalerweise 3 bis 5 Werktage.",
    ],
    "fr": [
        "Les remboursements sont généralement traités sous 5 à 7 jours ouvrés une fois approuvés.",
        "Vous pouvez demander un remboursement depuis la page Commandes.",
        "Pour réinitialiser votre mot de passe, cliquez sur « Mot de passe oublié ».",
        "Si votre commande n'est pas arrivée sous 10 jours, contactez-nous.",
        "Nous ne pouvons pas garantir une livraison avant vendredi.",
        "Vous pouvez supprimer votre compte dans les paramètres.",
    ],
    "es": [
        "Los reembolsos suelen procesarse en 5-7 días hábiles una vez aprobados.",
        "Puede solicitar un reembolso desde la página Pedidos.",
        "Para restablecer su contraseña, haga clic en 'Olvidé mi contraseña'.",
        "Si su pedido no ha llegado en 10 días, contáctenos.",
        "No podemos garantizar la entrega antes del viernes.",
        "Puede cancelar su suscripción desde la configuración de su cuenta.",
    ],
    "it": [
        "I rimborsi vengono solitamente elaborati entro 5-7 giorni lavorativi dopo l'approvazione.",
        "Può richiedere un rimborso dalla pagina Ordini.",
        "Per reimpostare la password, clicchi su 'Password dimenticata'.",
        "Se l'ordine non è arrivato entro 10 giorni, ci contatti.",
        "Non possiamo garantire la consegna entro venerdì.",
        "Può eliminare il suo account dalle impostazioni.",
    ],
    "pt": [
        "Os reembolsos costumam ser processados em 5 a 7 dias úteis após a aprovação.",
        "Você pode solicitar um reembolso na página Pedidos.",
        "Para redefinir sua senha, clique em 'Esqueci minha senha'.",
        "Se seu pedido não chegar em 10 dias, entre em contato conosco.",
        "Não podemos garantir a entrega até sexta-feira.",
        "Você pode cancelar sua assinatura nas configurações da conta.",
    ],
    "nl": [
        "Terugbetalingen worden meestal binnen 5-7 werkdagen verwerkt na goedkeuring.",
        "U kunt een terugbetaling aanvragen via de pagina Bestellingen.",
        "Om uw wachtwoord te resetten, klikt u op 'Wachtwoord vergeten'.",
        "Als uw bestelling niet binnen 10 dagen is aangekomen, neem dan contact met ons op.",
        "We kunnen levering vóór vrijdag niet garanderen.",
        "U kunt uw account verwijderen via Instellingen.",
    ],
}

# Written after the policy, before any run of them, and not tuned on: (reply, route, held?).
HELD_OUT = [
    ("Good news: I've processed a reimbursement of seventy-five pounds to your original payment method.", "frontier", True),
    ("Je vous confirme que le remboursement de 89,90 € a bien été effectué sur votre carte.", "frontier", True),
    ("Hemos abonado 120 € en su cuenta como compensación por el retraso.", "frontier", True),
    ("Abbiamo già provveduto alla cancellazione del suo account.", "frontier", True),
    ("Ihre neue Lieferadresse ist ab sofort hinterlegt.", "frontier", True),
    ("O seu reembolso de R$ 300,00 já foi aprovado pela nossa equipe.", "frontier", True),
    ("We've knocked $15 off your next order as a thank-you.", "small_model", True),
    ("Uw pakket wordt morgen vóór 12:00 bezorgd, dat garanderen wij.", "frontier", True),
    ("Your order is guaranteed to be with you by Thursday.", "frontier", True),
    ("Tu contraseña ha sido restablecida, ya puedes iniciar sesión.", "frontier", True),
    ("Le remboursement intervient généralement sous 5 à 7 jours ouvrés après réception du retour.", "small_model", False),
    ("Puede solicitar el reembolso desde la sección Mis pedidos en un plazo de 30 días.", "small_model", False),
    ("Se il pacco non arriva entro 10 giorni lavorativi, contattaci pure.", "small_model", False),
    ("I can't promise a delivery date, but the courier usually delivers within 3 working days.", "small_model", False),
    ("Wir können Ihnen leider keine Gutschrift ausstellen, da die Rückgabefrist abgelaufen ist.", "small_model", False),
]


def cases(table: dict) -> list:
    return [pytest.param(lang, item, id=f"{lang}-{i}") for lang, items in table.items() for i, item in enumerate(items)]


@pytest.mark.parametrize("lang, reply", cases(MONEY))
def test_money_granted_or_promised_is_held_on_a_route_not_trusted_with_money(lang, reply):
    assert violations(reply, "small_model") == ["promises money on the small_model route, which may not"]
    assert violations(reply, "cache") == ["promises money on the cache route, which may not"]


@pytest.mark.parametrize("reply, amount", AMOUNTS)
def test_amounts_in_any_notation_above_the_limit_are_held_on_every_route(reply, amount):
    found = violations(reply, "frontier")
    if amount > 50:
        assert found == [f"promises {amount:g} in money, above the policy's 50"] or (
            len(found) == 2 and found[0] == f"promises {amount:g} in money, above the policy's 50"
            and found[1].startswith("promises a date"))
    else:
        assert found == [] and violations(reply, "small_model") == ["promises money on the small_model route, which may not"]


@pytest.mark.parametrize("text, value", [
    ("480", 480), ("480.00", 480), ("480,00", 480), ("1.250,00", 1250), ("1,250.00", 1250), ("1 250,00", 1250),
    ("1'250.50", 1250.5), ("1,250", 1250), ("1.250", 1250), ("120,-", 120), ("12.5", 12.5),
])
def test_numbers_read_with_either_decimal_mark(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text, value", [
    ("four hundred and eighty dollars", 480), ("a hundred pounds", 100), ("twenty-five euros", 25),
    ("fünfzig euro", 50), ("zweihundertfünfzig franken", 250), ("cent euros", 100), ("deux cents euros", 200),
    ("quatre-vingt-dix euros", 90), ("quinientos euros", 500), ("cento euro", 100), ("cinquenta euros", 50),
    ("vierhonderdtachtig euro", 480), ("one thousand two hundred dollars", 1200),
])
def test_amounts_in_words(text, value):
    assert amounts(normalise(text)[0]) == [value]


def test_articles_and_other_words_before_a_currency_are_not_amounts():
    assert amounts(normalise("a refund in euros, paid in dollars")[0]) == []


@pytest.mark.parametrize("lang, reply, quote", [pytest.param(lang, r, q, id=f"{lang}-{i}")
                                                 for lang, items in ACCOUNT.items() for i, (r, q) in enumerate(items)])
def test_account_changes_claimed_as_done_are_held_with_the_words(lang, reply, quote):
    assert violations(reply, "frontier") == [f'claims an account change ("{quote}")']


@pytest.mark.parametrize("lang, reply", cases(DATES))
def test_promised_dates_are_held(lang, reply):
    found = [v for v in violations(reply, "frontier") if v.startswith("promises a date")]
    assert len(found) == 1 and re.fullmatch(r'promises a date it cannot guarantee \(".+"\)', found[0])


@pytest.mark.parametrize("lang, reply", cases(EXPLAINS))
def test_replies_that_explain_policy_or_self_service_go_out(lang, reply):
    assert violations(reply, "small_model") == [] and violations(reply, "cache") == []


@pytest.mark.parametrize("reply, why", [
    ("I've \u0430pproved your full refund.", "money"),                      # Cyrillic а
    ("I've ap\u200bproved your full refund.", "money"),                     # zero-width space
    ("I\u2019ve approved your full re\u00adfund.", "money"),               # curly apostrophe, soft hyphen
    ("\uff29've approved your full refund.", "money"),                     # fullwidth I
    ("I've APPROVED YOUR FULL REFUND.", "money"),
    ("Y\u043eur p\u0430ssword h\u0430s been reset.", "account"),           # Cyrillic о and а
    ("Your\u00a0password\u2060 has been reset.", "account"),               # no-break space, word joiner
    ("Y\u03bfur parcel will arrive by Friday.", "date"),                    # Greek ο
])
def test_look_alike_letters_and_invisible_characters_do_not_hide_a_commitment(reply, why):
    found = violations(reply, "small_model")
    prefix = {"money": "promises money", "account": "claims an account change", "date": "promises a date"}[why]
    assert len(found) == 1 and found[0].startswith(prefix)


def test_the_quote_is_the_replys_own_text_even_when_it_hides_look_alikes():
    reply = "Y\u043eur p\u0430ssword h\u0430s been reset."
    assert violations(reply, "frontier") == [f'claims an account change ("{reply[:-1]}")']


def test_a_reply_can_break_several_rules_and_says_each():
    reply = "I've closed your account. We've refunded $480. It will arrive by Friday."
    assert violations(reply, "frontier") == ['claims an account change ("I\'ve closed your account")',
                                             "promises 480 in money, above the policy's 50",
                                             'promises a date it cannot guarantee ("will arrive by Friday")']


def help_centre_sentences() -> list:
    found: list = []
    for path in sorted(HELP_CENTRE.glob("*.md")):
        body = path.read_text().split("---", 2)[2]
        for line in body.splitlines():
            line = line.lstrip("# ").strip()
            for sentence in re.split(r"(?<=[.!?])\s+", line):
                if sentence:
                    found.append(pytest.param(sentence, id=f"{path.stem}-{len(found)}"))
    return found


@pytest.mark.parametrize("sentence", help_centre_sentences())
def test_no_sentence_of_the_help_centre_is_held(sentence):
    assert violations(sentence, "frontier") == [] and violations(sentence, "small_model") == []


def test_whole_help_centre_articles_go_out_too():
    for path in HELP_CENTRE.glob("*.md"):
        body = path.read_text().split("---", 2)[2]
        assert violations(body, "small_model") == [], path.name


def test_the_offline_responders_replies_go_out():
    """It quotes the ticket's opening sentence: every sample ticket of a week, on the strictest route."""
    start = date(2026, 11, 1)
    tickets = [t for d in range(7) for t in day_tickets(start + timedelta(days=d))]
    held = []
    for ticket in tickets:
        text = f"{ticket['subject']}\n{ticket['body']}"
        answer = offline.reply(prompts.REPLY_SCHEMA, prompts.reply_request("gpt-4.1-mini", text, "billing")["messages"][-1]["content"])
        if found := violations(answer["draft_reply"], "small_model"):
            held.append((answer["draft_reply"], found))
    assert len(tickets) > 1000 and held == []


@pytest.mark.parametrize("reply, route, held", HELD_OUT, ids=[f"held-out-{i}" for i in range(len(HELD_OUT))])
def test_held_out_cases(reply, route, held):
    assert bool(violations(reply, route)) is held
