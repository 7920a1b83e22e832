"""The door to mail servers: the only code that speaks IMAP or SMTP.

- login.py: `ServerLogin`, where and how to log in (host, port, security, user, mechanism, secret,
  and the addresses vetted for the host); every function here takes one and nothing else about the
  mailbox. network.py opens the connection to a vetted address, never to a new lookup of the name.
- imap.py: `ImapSession` (list folders, STATUS, SEARCH, fetch, store flags, APPEND) and the small
  calls `check_login`, `list_folders`, `append_message`; imap_wire.py reads the connection within
  limits, imap_parse.py parses the answers (pure), tls_stream.py reads TLS in large socket reads.
- imap_original.py: one message's original bytes (`fetch_original` on a session, `original_message`
  with a login), read-only and under the UIDVALIDITY the sync recorded.
- smtp.py: `check_login` and `send`.
- failures.py: what failed, in our own words, for servers whose words must not be shown.

Nothing here imports an app: which server and which credential a mailbox uses is decided by its
credential provider (mailboxes/credentials/), which hands over a ServerLogin.

A second transport (Microsoft Graph) would be one more module here, say graph.py, with the same
small surface: `check_login`, `list_folders`, a session with the calls the sync makes
(`list_folders`, `status`, `select`, `search`, `fetch_flags`, `fetch_messages`, `store_flags`,
`append`), `send` and `append_message`, raising its own error type with the same `auth_failed` /
`transient` flags as ImapError and SmtpError. Its login would be a ServerLogin with the Graph host
and an access token for Mail.ReadWrite / Mail.Send, made by the provider of that kind of account.
The callers (sync engine, sending, the folder list and the server check) would pick the module by the
login's transport instead of importing imap and smtp directly; nothing else would change.
"""
