"""The settings an administrator changes in the back-office, over the deployment's defaults.

What stays here is what every app shares and no outside system owns: the `StoredSetting` model and
the layered store (`store.Option`, `store.get`, "Use Default"), its generic writes, the deployment
checks, System Information (outside systems add their own rows) and the Other Mail Servers page.
The Microsoft integration's settings, page and flows live in `inboxbridge.microsoft`, Sign in with
Microsoft's in `inboxbridge.signin`: each declares its options next to the code reading them, and
this app imports neither, so the store sits below both.
"""
