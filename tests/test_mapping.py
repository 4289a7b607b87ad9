import pytest

from nightshift.ingest.mapping import MappingError, parse_map, resolve


def test_parse_map_with_alias_and_spaces():
    assert parse_map(" text = instruction , label=intent,,body=Description") == {
        "text": "Description", "label": "intent"
    }


@pytest.mark.parametrize("spec", ["text", "text=", "colour=red"])
def test_parse_map_rejects_bad_entries(spec):
    with pytest.raises(MappingError):
        parse_map(spec)


def test_resolve_falls_back_to_canonical_names():
    assert resolve({}, ["id", "body", "created_at", "extra"]) == {"id": "id", "created_at": "created_at", "text": "body"}


def test_resolve_errors_on_mapped_column_missing_and_on_no_text():
    with pytest.raises(MappingError, match="Description"):
        resolve({"text": "Description"}, ["Summary"])
    with pytest.raises(MappingError, match="no text column"):
        resolve({}, ["id", "created_at"])
