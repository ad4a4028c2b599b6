"""The auditor's evidence pack: a signed, self-contained folder (HTML pages, data.json, CSV
files and a manifest of hashes) built from the ledger for one period, and its verification."""
