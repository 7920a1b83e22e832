/* Compose: the rich-text editor (Squire, vendored), images inserted into the text, the signature
   that follows the From choice, the draft saved while writing, and address suggestions. A static
   file, as the Content-Security-Policy allows no inline script. Without it the page still works:
   plain text. */
(function () {
  "use strict";
  const form = document.getElementById("compose-form");
  if (!form) return;
  const html = document.getElementById("id_body_html");
  const text = document.getElementById("id_body");
  const status = document.getElementById("draft-status");
  const draftField = document.getElementById("id_draft");
  const signatures = JSON.parse(document.getElementById("signatures").textContent || "{}");
  const editorMessage = document.getElementById("editor-message");
  const imageFile = document.getElementById("editor-image-file");
  const submitButtons = form.querySelectorAll("#send-button, #save-draft-button");
  const AUTOSAVE_MS = 5000;
  let editor = null;
  let dirty = false;
  let inserting = 0;
  // The page's posts to the server, one after the other: the first one makes the draft, and the
  // next ones must name it (an image inserted while the first autosave is on its way included).
  let turn = Promise.resolve();
  function inTurn(task) {
    turn = turn.then(task, task);
    return turn;
  }

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
    // Squire hands over a pasted image (a screenshot) rather than inserting it.
    editor.addEventListener("pasteImage", (event) => {
      Array.from(event.detail.clipboardData.items || [])
        .filter((item) => item.kind === "file").map((item) => item.getAsFile()).filter(Boolean)
        .forEach(insertImage);
    });
    // Files dropped on the text (Squire itself only handles dropped text and HTML).
    root.addEventListener("dragover", (event) => {
      if (event.dataTransfer && Array.from(event.dataTransfer.types).includes("Files")) event.preventDefault();
    });
    root.addEventListener("drop", (event) => {
      const files = Array.from((event.dataTransfer && event.dataTransfer.files) || []);
      if (event.defaultPrevented || !files.length) return;
      event.preventDefault();  // else the browser leaves the page to show the file
      const range = caretAt(event.clientX, event.clientY);
      if (range && root.contains(range.startContainer)) editor.setSelection(range);
      files.forEach(insertImage);
    });
    imageFile.addEventListener("change", () => {
      Array.from(imageFile.files).forEach(insertImage);
      imageFile.value = "";
    });
    document.getElementById("editor-toolbar").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-command]");
      if (!button) return;
      const command = button.dataset.command;
      const formats = { bold: "B", italic: "I", underline: "U" };
      if (command === "image") {
        imageFile.click();  // the chosen images go where the caret is
        return;
      }
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
  // What was typed, as the page would post it, for `action`; the files to attach go with Save
  // draft and Send only.
  function typed(action) {
    sync();
    const data = new FormData(form);
    data.delete("attach");
    data.set("action", action);
    return data;
  }

  async function post(data) {
    return fetch(window.location.href, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRFToken": data.get("csrfmiddlewaretoken") },
    });
  }

  function saved(answer) {
    draftField.value = answer.draft;
    if (window.location.pathname !== answer.url) window.history.replaceState(null, "", answer.url);
    status.textContent = answer.saved + " " + new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  async function autosave() {
    if (!dirty) return;
    dirty = false;
    try {
      const response = await post(typed("autosave"));
      if (response.status === 404) {  // discarded meanwhile (in another tab): nothing to save into
        status.textContent = "This draft was discarded; it is no longer saved.";
        return;
      }
      const answer = await response.json();
      if (response.ok) saved(answer); else status.textContent = "Not saved: " + answer.error;
    } catch (error) {
      dirty = true;
      status.textContent = "Not saved (no connection); trying again.";
    }
  }
  window.setInterval(() => inTurn(autosave), AUTOSAVE_MS);

  // An image inserted into the text (Insert image, a paste, a drop) is uploaded into the draft at
  // once and shown from this site; the server names it by its Content-ID when the message is sent.
  // Send and Save draft wait for it, so no message leaves without the image the writer put in.
  function inserts(delta) {
    inserting += delta;
    submitButtons.forEach((button) => { button.disabled = inserting > 0; });
    if (inserting > 0) status.textContent = "Inserting the image…";
  }

  function insertImage(file) {
    inserts(1);
    editorMessage.hidden = true;
    return inTurn(async () => {
      try {
        const data = typed("image");
        data.set("image", file, file.name || "image");
        const response = await post(data);
        let answer;
        try {
          answer = await response.json();
        } catch (error) {
          answer = { error: response.status === 404 ? "This draft was discarded." : "The server could not take it." };
        }
        if (!response.ok) {
          editorMessage.textContent = "The image was not inserted. " + answer.error;
          editorMessage.hidden = false;
          status.textContent = "";
          return;
        }
        saved(answer);
        editor.insertImage(answer.image.src, { alt: answer.image.alt });
        dirty = true;  // the HTML now shows the image: the next autosave keeps it in the draft
        sync();
      } catch (error) {
        editorMessage.textContent = "The image was not inserted (no connection). Insert it again.";
        editorMessage.hidden = false;
        status.textContent = "";
      } finally {
        inserts(-1);
      }
    });
  }

  // Where a drop lands in the text.
  function caretAt(x, y) {
    if (document.caretPositionFromPoint) {
      const position = document.caretPositionFromPoint(x, y);
      if (!position) return null;
      const range = document.createRange();
      range.setStart(position.offsetNode, position.offset);
      return range;
    }
    return document.caretRangeFromPoint ? document.caretRangeFromPoint(x, y) : null;
  }

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
