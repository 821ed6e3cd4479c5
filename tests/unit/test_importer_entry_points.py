"""The importers are found by name through the ``lablens.importers`` entry-point group, the way
``Api.sync_tensorboard()`` reaches its importer without the api layer importing the importers."""

from importlib import import_module

import pytest

from lablens.api._api_imports import IMPORTERS_GROUP, importer
from lablens.errors import UsageError
from lablens.importers import SOURCES


@pytest.mark.parametrize("source", SOURCES)
def test_each_importer_is_found_by_its_source_name(source):
    assert importer(source) is import_module(f"lablens.importers.{source}").import_


def test_an_unknown_source_is_a_usage_error_naming_the_group():
    with pytest.raises(UsageError, match=IMPORTERS_GROUP):
        importer("no-such-tool")
