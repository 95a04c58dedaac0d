"""Tests of the Chroma-compatible Python API (`fletchdb`): clients, collections, records, errors."""
