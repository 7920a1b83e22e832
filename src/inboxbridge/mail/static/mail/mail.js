// My Emails: small enhancements only; every page works without JavaScript.
(() => {
  // Dates are rendered on the server in the zone named by this cookie (see mail/timezones.py).
  const COOKIE = "inboxbridge_tz";
  const root = document.querySelector(".mail[data-tz]");
  let zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  // IANA names ("Europe/Berlin") are valid cookie values as they are; the server does not decode.
  if (root && /^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone)) {
    const stored = document.cookie.split("; ").find((c) => c.startsWith(COOKIE + "="));
    const value = zone;
    if (!stored || stored.slice(COOKIE.length + 1) !== value) {
      document.cookie = `${COOKIE}=${value}; path=/; max-age=31536000; samesite=lax`;
    }
    // Re-render once so this very page shows local times; never loop if the server disagrees.
    const saved = document.cookie.includes(`${COOKIE}=${value}`);
    if (saved && root.dataset.tz !== zone && !sessionStorage.getItem(COOKIE)) {
      sessionStorage.setItem(COOKIE, "1");
      location.reload();
      return;
    }
  }

  // The message frame is same-origin (sandboxed, without scripts): size it to its content.
  const fit = (frame) => {
    const doc = frame.contentDocument;
    if (!doc || !doc.documentElement) return;
    frame.style.height = `${doc.documentElement.scrollHeight + 2}px`;
  };
  document.querySelectorAll("iframe.html-body").forEach((frame) => {
    const watch = () => {
      fit(frame);
      const doc = frame.contentDocument;
      if (doc && doc.body && "ResizeObserver" in window) new ResizeObserver(() => fit(frame)).observe(doc.body);
    };
    frame.addEventListener("load", watch);
    if (frame.contentDocument && frame.contentDocument.readyState === "complete") watch();
  });

  // Opening a message marks it read. The server does it when the request shows the reader navigated
  // here (Fetch Metadata), which a message's own image or style requests never do. Otherwise (no
  // such headers, or a link from another site) the page posts its "Mark as read" form: only once
  // the reader sees it, never from a prerender, a background tab or a frame.
  const markRead = () => {
    document.querySelectorAll("form[data-read-on-open]").forEach((form) => {
      form.removeAttribute("data-read-on-open");
      fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin", redirect: "manual" })
        .then((response) => {
          // The answer is a redirect back to the page (opaque here): the state is saved.
          if (response.type !== "opaqueredirect" && !response.ok) return;
          form.hidden = true;
          const unread = form.parentElement.querySelector("form.mark-unread");
          if (unread) unread.hidden = false;
        })
        .catch(() => {});  // offline: the reader still has the button
    });
  };
  const seen = () => window.top === window.self && document.visibilityState === "visible" && !document.prerendering;
  if (document.querySelector("form[data-read-on-open]")) {
    const whenSeen = () => {
      if (!seen()) return;
      document.removeEventListener("visibilitychange", whenSeen);
      document.removeEventListener("prerenderingchange", whenSeen);
      markRead();
    };
    document.addEventListener("visibilitychange", whenSeen);
    document.addEventListener("prerenderingchange", whenSeen);
    whenSeen();
  }
})();
