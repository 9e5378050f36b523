"""The contract between pages and the API: every stored page document validates against the schema."""
import re

from server.pages.operations import read_operations, validate_all


async def test_every_page_document_validates_against_the_schema(app):
    assert read_operations(), "no documents in web/operations"
    assert validate_all(app.state.documents) == {}


def test_each_file_holds_the_operation_it_is_named_after():
    for name, text in read_operations().items():
        assert re.search(rf"\b(query|mutation) {name}\b", text), name



