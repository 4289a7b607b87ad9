import dagster as dg

from nightshift.orchestration.metadata import typed


def test_metadata_is_typed_and_rounded_to_what_it_can_mean():
    shown = typed({"spent_usd": 0.04349123, "saving": 0.8379123, "embed_seconds": 123.456, "tickets": 150, "trained": True,
                   "why": "new labels", "digest": dg.MetadataValue.md("# x")})
    assert shown["spent_usd"] == dg.MetadataValue.float(0.043491)  # micro-dollars: the ledger's sum stays exact
    assert shown["saving"] == dg.MetadataValue.float(0.8379)  # a fraction, to 0.01%
    assert shown["embed_seconds"] == dg.MetadataValue.float(123.5)
    assert shown["tickets"] == dg.MetadataValue.int(150) and shown["trained"] == dg.MetadataValue.bool(True)
    assert shown["why"] == "new labels" and shown["digest"] == dg.MetadataValue.md("# x")
