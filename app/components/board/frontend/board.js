// Pebble's Kanban board: a Streamlit component in plain JavaScript (no build step, no CDN).
// Every piece of card data is set with textContent (or as an attribute value), never as
// HTML: subjects and senders come from email and are untrusted.
// Dropping a card on another column (or choosing a column in its "Move to" menu) sends
// {card_id, to, version, nonce} to Python, which records the move; "Open" sends
// {open: card_id, nonce} and Python opens the card's page in the same session.
(function () {
  "use strict";

  function send(type, extra) {
    window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type: type }, extra), "*");
  }

  function setValue(value) {
    send("streamlit:setComponentValue", { value: value, dataType: "json" });
  }

  function nonce() {
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  let lastHeight = -1;
  function resize() {
    const height = document.documentElement.scrollHeight + 8;
    if (height === lastHeight) return;
    lastHeight = height;
    send("streamlit:setFrameHeight", { height: height });
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function move(card, to) {
    if (to === card.status) return;
    setValue({ card_id: card.card_id, to: to, version: card.version, nonce: nonce() });
  }

  function renderCard(card, args) {
    const node = el("div", "card");
    node.setAttribute("role", "listitem");
    node.dataset.cardId = card.card_id;
    node.appendChild(el("div", "subject", card.subject));
    (card.lines || []).forEach(function (line) { node.appendChild(el("div", "line", line)); });
    if (card.tags && card.tags.length) {
      const tags = el("div", "line");
      card.tags.forEach(function (tag) { tags.appendChild(el("span", "tag", tag)); });
      node.appendChild(tags);
    }
    const actions = el("div", "actions");
    const open = el("button", null, "Open");
    open.type = "button";
    open.addEventListener("click", function () {
      setValue({ open: card.card_id, nonce: nonce() });
    });
    actions.appendChild(open);
    if (args.can_move) {
      node.draggable = true;
      node.addEventListener("dragstart", function (event) {
        event.dataTransfer.setData("text/plain", card.card_id);
        event.dataTransfer.effectAllowed = "move";
        node.classList.add("dragging");
      });
      node.addEventListener("dragend", function () { node.classList.remove("dragging"); });
      const menu = el("select");
      menu.setAttribute("aria-label", "Move to");
      menu.appendChild(el("option", null, "Move to…")).value = "";
      (args.targets || []).forEach(function (target) {
        if (target[0] === card.status) return;
        const option = el("option", null, target[1]);
        option.value = target[0];
        menu.appendChild(option);
      });
      menu.addEventListener("change", function () { if (menu.value) move(card, menu.value); });
      actions.appendChild(menu);
    }
    node.appendChild(actions);
    return node;
  }

  let cardsById = {};

  function render(args) {
    const board = document.getElementById("board");
    board.replaceChildren();
    cardsById = {};
    board.style.setProperty("--columns", String((args.columns || []).length || 1));
    (args.columns || []).forEach(function (column) {
      const node = el("div", "column");
      node.dataset.column = column.key;
      node.dataset.target = column.target;
      node.setAttribute("aria-label", column.heading);
      node.appendChild(el("h3", null, column.heading + " (" + column.total + ")"));
      if (!column.cards.length) node.appendChild(el("div", "empty", "No cards"));
      column.cards.forEach(function (card) {
        cardsById[card.card_id] = card;
        node.appendChild(renderCard(card, args));
      });
      if (args.can_move) {
        node.addEventListener("dragover", function (event) {
          event.preventDefault();
          event.dataTransfer.dropEffect = "move";
          node.classList.add("over");
        });
        node.addEventListener("dragleave", function () { node.classList.remove("over"); });
        node.addEventListener("drop", function (event) {
          event.preventDefault();
          node.classList.remove("over");
          const card = cardsById[event.dataTransfer.getData("text/plain")];
          if (!card || card.column === column.key) return;
          move(card, column.target);
        });
      }
      board.appendChild(node);
    });
    resize();
  }

  // Streamlit sends the arguments again on every rerun and resize: redraw only when they
  // changed, so a card being dragged is not replaced under the pointer.
  let lastArgs = null;
  window.addEventListener("message", function (event) {
    const data = event.data;
    if (!data || data.type !== "streamlit:render") return;
    const args = data.args || {};
    const text = JSON.stringify(args);
    if (text === lastArgs) return;
    lastArgs = text;
    render(args);
  });
  window.addEventListener("resize", resize);
  send("streamlit:componentReady", { apiVersion: 1 });
})();
