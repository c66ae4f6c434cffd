/* Skranke desk: live updates over one websocket, presence on a case, keyboard shortcuts.
   The server renders everything; this file only decides *when* htmx re-fetches a fragment. */
(function () {
  "use strict";

  const body = document.body;
  const page = body.dataset.page || "";
  const caseNumber = body.dataset.caseNumber ? Number(body.dataset.caseNumber) : null;

  function fire(name, detail) {
    body.dispatchEvent(new CustomEvent(name, { bubbles: true, detail: detail || {} }));
  }

  function debounce(fn, ms) {
    let timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  // --- live updates -----------------------------------------------------------------------------
  const refreshList = debounce(() => fire("desk:refresh"), 400);
  const refreshCounts = debounce(() => fire("desk:counts"), 800);
  const refreshCase = debounce(() => fire("desk:case-changed"), 250);

  let socket = null;
  let presenceState = "viewing";
  let retry = 1000;

  function send(payload) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(payload));
  }

  function connect() {
    if (!body.dataset.wsUrl || !document.getElementById("queue-nav")) return;
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + body.dataset.wsUrl);
    socket.addEventListener("open", () => {
      retry = 1000;
      body.dataset.live = "connected";
      if (caseNumber) send({ action: "watch_case", number: caseNumber, state: presenceState });
    });
    socket.addEventListener("message", (event) => {
      let data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (data.type === "case.changed") {
        refreshCounts();
        if (page === "queue") refreshList();
        if (caseNumber && data.number === caseNumber) refreshCase();
      } else if (data.type === "presence") {
        showPresence(data.people || []);
      }
    });
    socket.addEventListener("close", () => {
      body.dataset.live = "disconnected";
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    });
  }

  // --- collision warning ------------------------------------------------------------------------
  function showPresence(people) {
    const box = document.getElementById("presence-warning");
    if (!box) return;
    if (!people.length) { box.hidden = true; box.textContent = ""; return; }
    const lines = people.map((p) => {
      const template = p.state === "replying" ? box.dataset.replying : box.dataset.viewing;
      return template.replace("{name}", p.name);
    });
    box.textContent = lines.join(" · ");
    box.classList.toggle("replying", people.some((p) => p.state === "replying"));
    box.hidden = false;
  }

  // Heartbeat: colleagues drop a person whose tab stops answering (closed laptop, lost network).
  setInterval(() => {
    if (caseNumber) send({ action: "presence", state: presenceState });
  }, 25000);

  function setPresence(state) {
    if (state === presenceState) return;
    presenceState = state;
    send({ action: "presence", state: state });
  }

  document.addEventListener("input", (event) => {
    if (event.target.closest && event.target.closest("#reply-form") && event.target.tagName === "TEXTAREA") {
      setPresence(event.target.value.trim() ? "replying" : "viewing");
    }
    const props = event.target.closest && event.target.closest("#properties");
    if (props) props.dataset.dirty = "1";
  });
  document.addEventListener("change", (event) => {
    const props = event.target.closest && event.target.closest("#properties");
    if (props) props.dataset.dirty = "1";
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.target.id === "reply-form") setPresence("viewing");
  });
  document.addEventListener("htmx:oobAfterSwap", (event) => {
    if (event.detail && event.detail.target && event.detail.target.id === "reply-form") setPresence("viewing");
    restoreSelection();
  });

  // --- email messages: text/HTML view, quoted history, remote images ---------------------------
  // The server never sends a remote image's address as src (it would tell the sender the mail
  // was read); the agent's click swaps it in. Choices survive the live refresh of the timeline.
  const emailChoices = { text: new Set(), quoted: new Set(), images: new Set() };

  function applyEmailChoices(article) {
    const id = article.id;
    const text = emailChoices.text.has(id);
    article.querySelectorAll("[data-view]").forEach((part) => {
      part.hidden = (part.dataset.view === "text") !== text;
    });
    const viewButton = article.querySelector("[data-toggle-view]");
    if (viewButton) {
      viewButton.textContent = text ? viewButton.dataset.labelHtml : viewButton.dataset.labelText;
      viewButton.setAttribute("aria-pressed", String(text));
    }
    const quoted = emailChoices.quoted.has(id);
    article.classList.toggle("quoted-open", quoted);
    const quotedButton = article.querySelector("[data-toggle-quoted]");
    if (quotedButton) quotedButton.setAttribute("aria-pressed", String(quoted));
    if (emailChoices.images.has(id)) {
      article.querySelectorAll("img[data-remote-src]").forEach((img) => {
        img.setAttribute("src", img.dataset.remoteSrc);
        img.removeAttribute("data-remote-src");
      });
      const imagesButton = article.querySelector("[data-show-images]");
      if (imagesButton) imagesButton.hidden = true;
    }
  }

  function toggleChoice(set, id) { if (set.has(id)) set.delete(id); else set.add(id); }

  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("[data-toggle-view], [data-toggle-quoted], [data-show-images]");
    const article = button && button.closest("[data-message]");
    if (!article) return;
    if (button.hasAttribute("data-toggle-view")) toggleChoice(emailChoices.text, article.id);
    else if (button.hasAttribute("data-toggle-quoted")) toggleChoice(emailChoices.quoted, article.id);
    else emailChoices.images.add(article.id);
    applyEmailChoices(article);
  });
  document.addEventListener("htmx:afterSettle", () => {
    document.querySelectorAll("[data-message]").forEach((article) => {
      if (emailChoices.text.has(article.id) || emailChoices.quoted.has(article.id) || emailChoices.images.has(article.id)) {
        applyEmailChoices(article);
      }
    });
  });

  // --- queue: row cursor, selection, bulk bar ---------------------------------------------------
  const selected = new Set();
  let cursor = -1;

  function rows() { return Array.from(document.querySelectorAll("[data-row]")); }

  function updateBulkBar() {
    const bar = document.querySelector("[data-bulk-bar]");
    if (!bar) return;
    bar.classList.toggle("visible", selected.size > 0);
    const counter = bar.querySelector("[data-selected-count]");
    if (counter) counter.textContent = String(selected.size);
  }

  function restoreSelection() {
    document.querySelectorAll("input[name=numbers]").forEach((box) => {
      box.checked = selected.has(box.value);
      box.closest("tr").classList.toggle("selected", box.checked);
    });
    const all = rows();
    if (cursor >= all.length) cursor = all.length - 1;
    if (cursor >= 0 && all[cursor]) all[cursor].classList.add("cursor");
    updateBulkBar();
  }

  document.addEventListener("htmx:afterSettle", (event) => {
    if (event.target.id === "queue-list") restoreSelection();
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    // A finished bulk action clears the selection (the list refreshes itself).
    if (event.target.id === "bulk-form" && event.detail.successful) {
      selected.clear();
      updateBulkBar();
    }
  });

  document.addEventListener("change", (event) => {
    const box = event.target;
    if (box.matches && box.matches("input[name=numbers]")) {
      if (box.checked) selected.add(box.value); else selected.delete(box.value);
      box.closest("tr").classList.toggle("selected", box.checked);
      updateBulkBar();
    } else if (box.matches && box.matches("[data-select-all]")) {
      document.querySelectorAll("input[name=numbers]").forEach((b) => {
        b.checked = box.checked;
        if (box.checked) selected.add(b.value); else selected.delete(b.value);
        b.closest("tr").classList.toggle("selected", box.checked);
      });
      updateBulkBar();
    }
  });

  document.addEventListener("click", (event) => {
    const row = event.target.closest && event.target.closest("[data-row]");
    if (!row || event.target.closest("a, input, button, label, select")) return;
    location.href = row.dataset.href;
  });

  function moveCursor(step) {
    const all = rows();
    if (!all.length) return;
    if (cursor >= 0 && all[cursor]) all[cursor].classList.remove("cursor");
    cursor = Math.max(0, Math.min(all.length - 1, cursor + step));
    all[cursor].classList.add("cursor");
    all[cursor].scrollIntoView({ block: "nearest" });
  }

  // --- confirmations, help overlay --------------------------------------------------------------
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
  }, true);

  const overlay = document.getElementById("help-overlay");
  function toggleHelp(show) {
    if (!overlay) return;
    overlay.hidden = !show;
    if (show) overlay.querySelector("[data-help-close]").focus();
  }
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-help-open]")) toggleHelp(true);
    if (event.target.closest("[data-help-close]") || event.target === overlay) toggleHelp(false);
  });

  // --- keyboard shortcuts -----------------------------------------------------------------------
  let pendingG = false;

  function typing(target) {
    return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
  }

  function focusReply(kind) {
    const form = document.getElementById("reply-form");
    if (!form) return;
    const radio = form.querySelector(`input[name=kind][value=${kind}]`);
    if (radio) radio.checked = true;
    form.querySelector("textarea").focus();
  }

  function clickShortcut(key) {
    const button = document.querySelector(`[data-shortcut="${key}"]`);
    if (button) { button.click(); return true; }
    return false;
  }

  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.closest("#reply-form")) {
      event.preventDefault();
      const form = document.getElementById("reply-form");
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
      return;
    }
    if (event.key === "Escape") {
      if (overlay && !overlay.hidden) toggleHelp(false);
      else if (typing(event.target)) event.target.blur();
      return;
    }
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;

    if (pendingG) {
      pendingG = false;
      const targets = { q: "/cases/", u: "/cases/queue/unassigned/", o: "/cases/queue/open/", c: "/customers/" };
      if (targets[event.key]) { event.preventDefault(); location.href = targets[event.key]; }
      return;
    }
    switch (event.key) {
      case "?": toggleHelp(overlay ? overlay.hidden : false); break;
      case "/": {
        event.preventDefault();
        const search = document.querySelector("[data-search]") || document.getElementById("global-search");
        if (search) { search.focus(); search.select(); }
        break;
      }
      case "g": pendingG = true; setTimeout(() => { pendingG = false; }, 1500); break;
      case "j": if (page === "queue" || rows().length) { event.preventDefault(); moveCursor(1); } break;
      case "k": if (page === "queue" || rows().length) { event.preventDefault(); moveCursor(-1); } break;
      case "o":
      case "Enter": {
        const row = rows()[cursor];
        if (row) { event.preventDefault(); location.href = row.dataset.href; }
        break;
      }
      case "x": {
        const row = rows()[cursor];
        const box = row && row.querySelector("input[name=numbers]");
        if (box) { box.checked = !box.checked; box.dispatchEvent(new Event("change", { bubbles: true })); }
        break;
      }
      case "r": if (caseNumber) { event.preventDefault(); focusReply("reply"); } break;
      case "n": if (caseNumber) { event.preventDefault(); focusReply("note"); } break;
      case "a": if (caseNumber) clickShortcut("a"); break;
      case "s": if (caseNumber) clickShortcut("s"); break;
      case "c": event.preventDefault(); location.href = "/cases/new/"; break;
      default: break;
    }
  });

  connect();
})();
