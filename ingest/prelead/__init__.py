"""Prelead lists: the CSV/XLSX lead lists marketing screens, validated and loaded to ``raw``.

Entry points: :func:`ingest.prelead.sync.sync` (files and folders, one batch per file,
unreadable files to ``raw.rejects``; returns a ``LandReport``),
:func:`ingest.prelead.land.load_file` (one file as a named batch) and the commands
``pebble prelead load FILE --batch NAME`` / ``pebble prelead load-folder [FOLDER]``.
Modules: ``parse`` (CSV/XLSX reading, encodings), ``headers``/``rules``/``states``/
``validate``/``parallel`` (the checks per row), ``land`` (COPY into the tables), ``sync``,
``cli``.

Tables:

- ``raw.prelead_batches``: one row per batch: file name and SHA-256 (a batch name is bound to
  one file), kind, encoding, header row, and the counts ``rows``, ``valid``, ``invalid``,
  ``duplicates_in_batch``, ``formula_neutralised``.
- ``raw.prelead_rows``: one row per data row, invalid rows included; ``row_no`` is the row
  number a spreadsheet shows. Cells as given (``company_name``, ``gstin``, ``email``,
  ``phone``, ``state``...) beside normalised values (``company_key``, ``email_normalised``,
  ``phone_e164``, ``state_name``, ``state_code``); unknown columns in ``extra`` (jsonb);
  ``is_valid``, ``reason_codes`` (text[]) and ``reasons`` (jsonb list of code/field/message);
  ``duplicate_of`` (row_no of the first row repeated) and ``duplicate_on`` (``gstin``,
  ``name_state``, ``email``); ``formula_neutralised`` and ``formula_originals`` (jsonb).

Reason codes: ``company_missing``, ``gstin_format``, ``gstin_checksum``,
``gstin_state_mismatch``, ``pan_format``, ``pan_gstin_mismatch``, ``cin_format``,
``email_format``, ``phone_invalid``, ``state_unknown``, ``contact_missing``,
``cell_too_long`` (a cell cut to ``PRELEAD_MAX_CELL_CHARS``; see ``parse``). A duplicate is
not invalid in itself: ``valid + invalid = rows``, and duplicates are counted apart.
"""
