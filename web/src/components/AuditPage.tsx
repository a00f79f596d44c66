// The audit log (admins and owners): who published, deleted, restored, changed the team,
// keys, sinks and subscriptions — newest first, filtered by actor and action.

import { useCallback, useEffect, useState } from "react";
import { listAuditEvents, type AuditEvent } from "../api/team";
import { toast } from "../lib/toast";
import { can } from "../state/auth";
import { AppHeader } from "./AppHeader";

const ACTIONS = [
  "flow.publish",
  "flow.delete",
  "revision.restore",
  "flow.test_users",
  "user.create",
  "user.invite",
  "user.accept_invitation",
  "user.role",
  "user.password",
  "user.remove",
  "api_key.create",
  "api_key.delete",
  "sink.create",
  "sink.update",
  "sink.delete",
  "subscription.create",
  "subscription.update",
  "subscription.delete",
];

export function AuditPage({ onLogout }: { onLogout: () => void }) {
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [actor, setActor] = useState("");
  const [action, setAction] = useState("");

  const load = useCallback(() => {
    if (!can("admin")) return;
    listAuditEvents({ Actor: actor.trim() || undefined, Action: action || undefined })
      .then((p) => {
        setEvents(p.events);
        setNext(p.next);
      })
      .catch((e: Error) => toast(e.message, "error"));
  }, [actor, action]);
  useEffect(load, [action]); // the actor filter applies on submit

  const more = () =>
    listAuditEvents({}, next)
      .then((p) => {
        setEvents((old) => [...(old ?? []), ...p.events]);
        setNext(p.next);
      })
      .catch((e: Error) => toast(e.message, "error"));

  return (
    <div className="flows-page">
      <AppHeader onLogout={onLogout} here="audit" />
      <main className="flows-main">
        <div className="flows-head">
          <h1>Audit log</h1>
        </div>
        {!can("admin") ? (
          <div className="empty-state">Only admins and owners see the audit log.</div>
        ) : (
          <>
            <form
              className="invite-form"
              onSubmit={(e) => {
                e.preventDefault();
                load();
              }}
            >
              <label htmlFor="audit-actor">Actor</label>
              <input id="audit-actor" value={actor} placeholder="email or SID" onChange={(e) => setActor(e.target.value)} />
              <label htmlFor="audit-action">Action</label>
              <select id="audit-action" value={action} onChange={(e) => setAction(e.target.value)}>
                <option value="">any</option>
                {ACTIONS.map((a) => (
                  <option key={a} value={a}>
                    {a}
                  </option>
                ))}
              </select>
              <button type="submit" className="btn">
                Filter
              </button>
            </form>
            {events === null ? (
              <div className="muted">Loading…</div>
            ) : events.length === 0 ? (
              <div className="empty-state">Nothing recorded yet.</div>
            ) : (
              <table className="flows-table audit-table">
                <thead>
                  <tr>
                    <th>When</th>
                    <th>Who</th>
                    <th>Action</th>
                    <th>Resource</th>
                    <th>From</th>
                  </tr>
                </thead>
                <tbody>
                  {events.map((e) => (
                    <tr key={e.sid} data-action={e.action}>
                      <td className="small">{new Date(e.date_created).toLocaleString()}</td>
                      <td>{e.actor}</td>
                      <td className="mono small">{e.action}</td>
                      <td className="mono small">{e.resource_sid}</td>
                      <td className="small">{e.client_address}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {next && (
              <button type="button" className="btn" onClick={() => void more()}>
                Load more
              </button>
            )}
          </>
        )}
      </main>
    </div>
  );
}
