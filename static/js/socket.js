// The page's WebSocket, one per page, shared by every script that needs it:
//   - a page about one incident (the room, a statement) opens the incident's socket
//     (ws/incidents/<id>/): its events, its presence, and the person's own signals;
//   - every other signed-in page opens the person's socket (ws/me/): their signals (the
//     bell...) and the events of the open incidents they are in (the dashboard, "My
//     approvals").
//
//   const connection = crisisSocket.open(incidentId);   // or crisisSocket.user()
//   connection.on("open" | "message" | "close", handler);  // "message" gets parsed JSON
//   connection.send({...});                                  // dropped while disconnected
//
// It reconnects with exponential backoff and jitter. A 4401/4403 close (signed out, or no
// longer in the cell) reloads the page, which is no longer ours. A 4503 close (live updates
// unavailable: the server cannot subscribe) is retried like a lost connection. The backoff
// starts over only once the server says the socket is live ({"type": "status", "live":
// true}), not on every accepted handshake. The socket opens on DOMContentLoaded, after
// every deferred script has registered its handlers: load this file and the scripts using
// it with `defer`.
(() => {
  "use strict";

  if (!window.WebSocket || window.crisisSocket) return;
  const connections = new Map();
  let domReady = false;
  document.addEventListener("DOMContentLoaded", () => { domReady = true; });

  function openPath(path) {
    if (connections.has(path)) return connections.get(path);

    const handlers = { open: [], message: [], close: [] };
    let socket = null;
    let retries = 0;
    const emit = (type, value) => handlers[type].forEach((handler) => handler(value));

    function connect() {
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      socket = new WebSocket(`${scheme}://${location.host}${path}`);
      socket.addEventListener("open", () => emit("open"));
      socket.addEventListener("message", (message) => {
        let payload;
        try {
          payload = JSON.parse(message.data);
        } catch {
          return;
        }
        if (payload && payload.type === "status" && payload.live) retries = 0;
        emit("message", payload);
      });
      socket.addEventListener("close", (event) => {
        emit("close", event);
        if (event.code === 4401 || event.code === 4403) {
          window.location.reload();
          return;
        }
        const delay = Math.min(30000, 1000 * 2 ** retries) * (0.75 + Math.random() / 2);
        retries += 1;
        setTimeout(connect, delay);
      });
    }

    const connection = {
      path,
      on(type, handler) {
        handlers[type].push(handler);
        return connection;
      },
      send(data) {
        if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(data));
      },
      get socket() { return socket; },
    };
    connections.set(path, connection);
    // Listeners added while DOMContentLoaded is being dispatched would not run: after it
    // (or during it), connect on the next turn.
    if (domReady || document.readyState === "complete") {
      setTimeout(connect, 0);
    } else {
      document.addEventListener("DOMContentLoaded", connect);
    }
    return connection;
  }

  window.crisisSocket = {
    open: (incidentId) => openPath(`/ws/incidents/${encodeURIComponent(String(incidentId))}/`),
    user: () => openPath("/ws/me/"),
  };
})();
