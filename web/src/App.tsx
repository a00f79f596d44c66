import { useEffect, useState } from "react";
import { fetchWidgetTypes } from "./api/callboard";
import { prefetchFlow } from "./api/studio";
import { currentSession, logout as endSession } from "./api/team";
import type { WidgetSchema } from "./api/types";
import { AuditPage } from "./components/AuditPage";
import { EditorPage } from "./components/EditorPage";
import { FlowList } from "./components/FlowList";
import { InvitePage } from "./components/InvitePage";
import { Login } from "./components/Login";
import { TeamPage } from "./components/TeamPage";
import { Toasts } from "./components/Toasts";
import { getSession, onSessionChange, setSession } from "./state/auth";

const FLOW_ROUTE = /^\/flows\/(FW[0-9a-fA-F]{32})/;
const INVITE_ROUTE = /^\/invite\/([A-Za-z0-9_-]{20,128})$/;

function useHashRoute(): string {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const on = () => setHash(window.location.hash);
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return hash.replace(/^#/, "") || "/";
}

/** The session: "checking" until the server said whether the cookie still holds one. */
function useSession(): "checking" | "in" | "out" {
  const [state, setState] = useState<"checking" | "in" | "out">(getSession() ? "in" : "checking");
  useEffect(() => onSessionChange(() => setState(getSession() ? "in" : "out")), []);
  useEffect(() => {
    if (getSession()) return;
    currentSession()
      .then(setSession)
      .catch(() => setState("out"));
  }, []);
  return state;
}

export function App() {
  const session = useSession();
  const [schemas, setSchemas] = useState<WidgetSchema[] | null>(null);
  const [error, setError] = useState("");
  const route = useHashRoute();
  const authed = session === "in";

  useEffect(() => {
    if (!authed) return;
    const m = FLOW_ROUTE.exec(window.location.hash.replace(/^#/, ""));
    if (m) prefetchFlow(m[1]);
    fetchWidgetTypes()
      .then(setSchemas)
      .catch((e: Error & { status?: number }) => {
        if (e.status !== 401) setError(`Could not load widget types: ${e.message}`);
      });
  }, [authed]);

  const logout = () => {
    endSession()
      .catch(() => undefined)
      .finally(() => {
        setSession(null);
        setSchemas(null);
      });
  };

  const invite = INVITE_ROUTE.exec(route);
  let page;
  if (invite) page = <InvitePage token={invite[1]} />;
  else if (session === "checking") page = <div className="loading">Loading…</div>;
  else if (!authed) page = <Login />;
  else if (error) page = <div className="page-error">{error}</div>;
  else if (route === "/team") page = <TeamPage onLogout={logout} />;
  else if (route === "/audit") page = <AuditPage onLogout={logout} />;
  else if (!schemas) page = <div className="loading">Loading…</div>;
  else {
    const m = FLOW_ROUTE.exec(route);
    page = m ? <EditorPage key={m[1]} sid={m[1]} schemas={schemas} /> : <FlowList onLogout={logout} />;
  }
  return (
    <>
      {page}
      <Toasts />
    </>
  );
}
