// API keys (admins and owners): each records who made it and carries at most their role.

import { useCallback, useEffect, useState } from "react";
import { createKey, deleteKey, listKeys, type ApiKey } from "../api/team";
import { toast } from "../lib/toast";
import { getSession, ROLES, type Role } from "../state/auth";

export function KeysSection() {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [name, setName] = useState("");
  const mine = getSession()?.user.role ?? "viewer";
  const roles = ROLES.slice(0, ROLES.indexOf(mine) + 1);
  const [role, setRole] = useState<Role>(roles.includes("editor") ? "editor" : mine);
  const [secret, setSecret] = useState<{ sid: string; secret: string } | null>(null);

  const load = useCallback(() => {
    listKeys()
      .then(setKeys)
      .catch((e: Error) => toast(e.message, "error"));
  }, []);
  useEffect(load, [load]);

  const create = () =>
    createKey(name.trim(), role)
      .then((k) => {
        setSecret({ sid: k.sid, secret: k.secret });
        setName("");
        load();
      })
      .catch((e: Error) => toast(e.message, "error"));

  return (
    <section className="keys-section" aria-label="API keys">
      <h2>API keys</h2>
      <form
        className="invite-form"
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <label htmlFor="key-name">Name</label>
        <input id="key-name" value={name} placeholder="CI deploys" onChange={(e) => setName(e.target.value)} />
        <label htmlFor="key-role">Role</label>
        <select id="key-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {roles.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
        <button type="submit" className="btn">
          Create key
        </button>
      </form>
      {secret && (
        <div className="invite-link" role="status">
          <p>
            The secret of <span className="mono">{secret.sid}</span> (shown once: copy it now):
          </p>
          <input aria-label="Key secret" readOnly value={secret.secret} onFocus={(e) => e.target.select()} />
        </div>
      )}
      {keys && keys.length > 0 && (
        <table className="flows-table keys-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>SID</th>
              <th>Role</th>
              <th>Created by</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k.sid} data-sid={k.sid}>
                <td>{k.friendly_name}</td>
                <td className="mono small">{k.sid}</td>
                <td>{k.role}</td>
                <td>{k.created_by ?? <span className="muted">the account</span>}</td>
                <td className="row-actions">
                  <button
                    type="button"
                    className="link-btn danger"
                    onClick={() => {
                      if (window.confirm(`Delete the key ${k.friendly_name}? Whatever uses it stops working.`))
                        deleteKey(k.sid)
                          .then(load)
                          .catch((e: Error) => toast(e.message, "error"));
                    }}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
