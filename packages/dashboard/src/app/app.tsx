// The page's frame: navigation, the live status, the current route, the confirmation dialog.
import { ConfirmDialog } from "./dialog.js";
import { EventsPage } from "./events.js";
import { api } from "./http.js";
import { liveStatus, loggedOut } from "./live.js";
import { NodePage, NodesPage } from "./nodes.js";
import { route } from "./router.js";
import { ServicePage } from "./service-page.js";
import { ServicesPage } from "./services.js";
import { model } from "./state.js";

function Page() {
  const current = route.value;
  switch (current.page) {
    case "nodes":
      return <NodesPage />;
    case "node":
      return <NodePage key={current.id} id={current.id} />;
    case "services":
      return <ServicesPage />;
    case "service":
      return <ServicePage key={current.id} id={current.id} task={current.task} />;
    case "events":
      return <EventsPage />;
  }
}

async function logout(): Promise<void> {
  await api.post("/api/v1/logout", {}).catch(() => undefined);
  loggedOut.value = true;
}

export function App() {
  if (loggedOut.value) {
    return (
      <main class="logged-out" data-testid="logged-out">
        <h1>Shoal</h1>
        <p>
          No session: run <code>shoal dashboard login</code> and open the link it prints.
        </p>
      </main>
    );
  }
  const page = route.value.page;
  const info = model.info.value;
  return (
    <>
      <header>
        <span class="brand">Shoal</span>
        <nav>
          <a href="#/nodes" class={page.startsWith("node") ? "current" : ""} data-testid="nav-nodes">
            Nodes
          </a>
          <a href="#/services" class={page.startsWith("service") ? "current" : ""} data-testid="nav-services">
            Services
          </a>
          <a href="#/events" class={page === "events" ? "current" : ""} data-testid="nav-events">
            Events
          </a>
        </nav>
        <span class="status" data-testid="live-status" data-status={liveStatus.value}>
          {info ? `${info.isLeader ? "leader" : "manager"} ${info.managerNodeId.slice(0, 12)} · ` : ""}
          {liveStatus.value}
        </span>
        <button type="button" class="link" data-testid="logout-button" onClick={() => void logout()}>
          Log out
        </button>
      </header>
      <main>
        <Page />
      </main>
      <ConfirmDialog />
    </>
  );
}
