"""HTTP as pipeledger speaks it to hostile or flaky servers: the API client of an adapter and
the batching client of an HTTP sink, with what they share.

- :mod:`~pipeledger.http.client` — the JSON REST client of the platform plugins: retries,
  rate limits, conditional requests, ``Link`` pagination;
- :mod:`~pipeledger.http.sink` — the client of the HTTP sinks: batching and retries;
- :mod:`~pipeledger.http.fetch` — one GET as a hostile server cannot abuse it (bounded body
  and time, redirects only under the API root);
- :mod:`~pipeledger.http.origin` — where the API's credentials may go;
- :mod:`~pipeledger.http.progress` — which page of how many a list response is.

Private to the package: ``_budget`` (one rate-limit budget and pause shared by the threads of a
client) and ``_errors`` (what ``requests`` raises, told as the project's errors). This file
imports nothing, so importing one module of the package loads no other.
"""
