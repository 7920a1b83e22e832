/* Compose: the rich-text editor (Squire, vendored), the signature that follows the From choice,
   the draft saved while writing, and address suggestions. A static file, as the
   Content-Security-Policy allows no inline script. Without it the page still works: plain text. */
(function () {
  "use strict";
  const form = document.getElementById("compose-form");
  if (!form) return;
  const html = document.getElementById("id_body_html");
  const text = document.getElementById("id_body");
  const status = document.getElementById("draft-status");
  const draftField = document.getElementById("id_draft");
  const signatures = JSON.parse(document.getElementById("signatures").textContent || "{}");
  const AUTOSAVE_MS = 5000;
  let editor = null;
  let dirty = false;

  // Pasted HTML, parsed inert (DOMParser runs no script), with active content taken out; the
  // server sanitises the whole message again before sending it.
  function toFragment(source) {
    const doc = new DOMParser().parseFromString(source, "text/html");
    doc.querySelectorAll("script,style,iframe,object,embed,link,meta,form,input,button,textarea,select")
      .forEach((node) => node.remove());
    doc.body.querySelectorAll("*").forEach((node) => {
      Array.from(node.attributes).forEach((attr) => {
        const name = attr.name.toLowerCase();
        if (name.startsWith("on") || (/^(href|src)$/.test(name) && /^\s*(javascript|vbscript|data):/i.test(attr.value))) {
          node.removeAttribute(attr.name);
        }
      });
    });
    const fragment = document.createDocumentFragment();
    Array.from(doc.body.childNodes).forEach((node) => fragment.appendChild(document.importNode(node, true)));
    return fragment;
  }

  function sync() {
    if (!editor) return;
    html.value = editor.getHTML();
    text.value = editor.getRoot().innerText;
  }

  function startEditor() {
    const root = document.getElementById("editor");
    if (!root || typeof window.Squire !== "function") return;
    root.hidden = false;
    document.getElementById("editor-toolbar").hidden = false;
    text.hidden = true;
    editor = new window.Squire(root, { sanitizeToDOMFragment: toFragment });
    editor.setHTML(html.dataset.initial || "");
    sync();
    editor.addEventListener("input", () => { dirty = true; sync(); });
    document.getElementById("editor-toolbar").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-command]");
      if (!button) return;
      const command = button.dataset.command;
      const formats = { bold: "B", italic: "I", underline: "U" };
      if (command === "link") {
        const url = window.prompt("Link address (https://…)");
        if (url && /^(https?:|mailto:)/i.test(url.trim())) editor.makeLink(url.trim());
      } else if (formats[command]) {
        const off = "remove" + command[0].toUpperCase() + command.slice(1);
        if (editor.hasFormat(formats[command])) editor[off](); else editor[command]();
      } else {
        editor[command]();
      }
      editor.focus();
    });
  }

  // The signature block follows the From choice (a system mailbox may have its own).
  const from = document.getElementById("id_mailbox");
  if (from) {
    from.addEventListener("change", () => {
      const wanted = signatures[from.value];
      if (wanted === undefined) return;
      if (editor) {
        const block = editor.getRoot().querySelector(".signature");
        if (!block) return;
        const holder = document.createElement("div");
        holder.innerHTML = wanted;
        block.innerHTML = holder.firstElementChild ? holder.firstElementChild.innerHTML : "";
        editor.setHTML(editor.getRoot().innerHTML);
        sync();
      }
      dirty = true;
    });
  }

  // Drafts: what was typed is posted every few seconds while it changes (files go with Save draft
  // and Send). The first save makes the draft; the page's address becomes the draft's.
  form.addEventListener("input", () => { dirty = true; });
  form.addEventListener("submit", () => { sync(); dirty = false; });
  async function autosave() {
    if (!dirty) return;
    dirty = false;
    sync();
    const data = new FormData(form);
    data.delete("attach");
    data.set("action", "autosave");
    try {
      const response = await fetch(window.location.href, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-CSRFToken": data.get("csrfmiddlewaretoken") },
      });
      if (response.status === 404) {  // discarded meanwhile (in another tab): nothing to save into
        status.textContent = "This draft was discarded; it is no longer saved.";
        return;
      }
      const answer = await response.json();
      if (response.ok) {
        draftField.value = answer.draft;
        if (window.location.pathname !== answer.url) window.history.replaceState(null, "", answer.url);
        status.textContent = answer.saved + " " + new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      } else {
        status.textContent = "Not saved: " + answer.error;
      }
    } catch (error) {
      dirty = true;
      status.textContent = "Not saved (no connection); trying again.";
    }
  }
  window.setInterval(autosave, AUTOSAVE_MS);

  // Address suggestions from the user's mail, for the address being typed (after the last comma).
  const datalist = document.getElementById("address-suggestions");
  let pending = 0;
  form.querySelectorAll(".address-field").forEach((field) => {
    field.addEventListener("input", () => {
      const value = field.value;
      const cut = Math.max(value.lastIndexOf(","), value.lastIndexOf(";"));
      const head = value.slice(0, cut + 1);
      const typed = value.slice(cut + 1).trim();
      window.clearTimeout(pending);
      if (typed.length < 2) return;
      pending = window.setTimeout(async () => {
        const response = await fetch(form.dataset.suggestionsUrl + "?q=" + encodeURIComponent(typed),
                                     { credentials: "same-origin" });
        if (!response.ok) return;
        const answer = await response.json();
        datalist.replaceChildren(...answer.addresses.map((address) => {
          const option = document.createElement("option");
          option.value = (head ? head + " " : "") + address;
          return option;
        }));
      }, 200);
    });
  });

  startEditor();
})();
