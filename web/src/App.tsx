import { useEffect, useState } from "react";
import { fetchWidgetTypes } from "./api/callboard";
import { prefetchFlow } from "./api/studio";
import type { WidgetSchema } from "./api/types";
import { EditorPage } from "./components/EditorPage";
import { FlowList } from "./components/FlowList";
import { Login } from "./components/Login";
import { Toasts } from "./components/Toasts";
import { getCredentials, setCredentials } from "./state/auth";

const FLOW_ROUTE = /^\/flows\/(FW[0-9a-fA-F]{32})/;

function useHashRoute(): string {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const on = () => setHash(window.location.hash);
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return hash.replace(/^#/, "") || "/";
}

export function App() {
  const [authed, setAuthed] = useState(() => getCredentials() !== null);
  const [schemas, setSchemas] = useState<WidgetSchema[] | null>(null);
  const [error, setError] = useState("");
  const route = useHashRoute();

  useEffect(() => {
    if (!authed) return;
    const m = FLOW_ROUTE.exec(window.location.hash.replace(/^#/, ""));
    if (m) prefetchFlow(m[1]);
    fetchWidgetTypes()
      .then(setSchemas)
      .catch((e: Error & { status?: number }) => {
        if (e.status === 401) {
          setCredentials(null);
          setAuthed(false);
        } else setError(`Could not load widget types: ${e.message}`);
      });
  }, [authed]);

  const logout = () => {
    setCredentials(null);
    setAuthed(false);
    setSchemas(null);
  };

  let page;
  if (!authed) page = <Login onLogin={() => setAuthed(true)} />;
  else if (error) page = <div className="page-error">{error}</div>;
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
