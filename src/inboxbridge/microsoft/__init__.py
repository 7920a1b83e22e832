"""The door to the Microsoft identity platform: everything the product knows about Microsoft.

- client.py: the only module importing msal (flows, token refresh, app tokens, discovery, the admin
  consent URL); id_token.py: the id_token checks MSAL leaves out.
- config.py: the Microsoft Settings options (in the generic settings store) and the effective
  configuration; errors.py: Microsoft's answers (AADSTS codes, Exchange Online's SMTP refusals)
  turned into what a person can act on.
- flows.py: one way to start an OAuth flow (`start`, `start_admin_consent`) and one to check its
  answer (`redeem`), behind the one Redirect URI; the apps finishing a flow register a handler.
- The Microsoft Settings page: views.py, forms.py, actions.py, settings_flows.py (its Enable check
  and admin consent), templates/microsoft/.

It imports no feature app: mailboxes (connect) and signin (sign in, link) register their handlers.
"""
