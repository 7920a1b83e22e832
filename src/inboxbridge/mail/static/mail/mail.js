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
})();
