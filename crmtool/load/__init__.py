"""Reading exports into the store: readers, parsers, detection, ingest, validation, history."""
