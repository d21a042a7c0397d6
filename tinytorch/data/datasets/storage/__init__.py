"""The storage layer beneath the datasets: downloads with mirrors and verification (`download`), the cache root,
md5 memos and files opened without following links (`cache`), the IDX reader (`idx`) and the restricted unpickler
(`safe_pickle`). Nothing here knows a dataset."""
