// One form field generated from a property schema.

import type { PropSchema } from "../../api/types";
import { LiquidInput } from "./LiquidInput";
import { KeyValuesField, StringListField } from "./ListFields";

interface Props {
  prop: PropSchema;
  value: unknown;
  error?: string;
  onChange: (v: unknown) => void;
  suggestions: () => string[];
  fieldId: string;
}

const asText = (v: unknown) =>
  v === undefined || v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);

function numberValue(prop: PropSchema, raw: string): unknown {
  if (raw === "") return undefined;
  const numeric = /^-?\d+(\.\d+)?$/.test(raw);
  if (prop.kind === "integer" && numeric && !raw.includes(".")) return parseInt(raw, 10);
  if (prop.kind === "number" && numeric) return Number(raw);
  return raw; // string-typed numbers (Studio stores e.g. timeout "3600") and Liquid
}

export function PropField({ prop, value, error, onChange, suggestions, fieldId }: Props) {
  let input;
  const text = asText(value);
  switch (prop.editor) {
    case "checkbox": {
      const checked = value === true || value === "true";
      input = (
        <label className="check">
          <input
            id={fieldId}
            type="checkbox"
            checked={checked}
            onChange={(e) =>
              onChange(prop.kind === "string" ? String(e.target.checked) : e.target.checked)
            }
          />
          <span>{prop.label}</span>
        </label>
      );
      break;
    }
    case "select": {
      const options = prop.enum.includes(text) || text === "" ? prop.enum : [...prop.enum, text];
      input = (
        <select id={fieldId} value={text} className={error ? "invalid" : ""} onChange={(e) => onChange(e.target.value || undefined)}>
          {!prop.required && <option value="">(default)</option>}
          {options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      );
      break;
    }
    case "number":
      input = (
        <input
          id={fieldId}
          type="text"
          inputMode="numeric"
          className={error ? "invalid" : ""}
          value={text}
          placeholder={prop.default !== null ? asText(prop.default) : ""}
          onChange={(e) => onChange(numberValue(prop, e.target.value))}
        />
      );
      break;
    case "key_values":
      input = (
        <KeyValuesField
          value={value}
          onChange={onChange}
          renderValue={(v, set, i) => (
            <LiquidInput id={`${fieldId}-${i}`} value={v} onChange={set} suggestions={suggestions} placeholder="Value" />
          )}
        />
      );
      break;
    case "list":
      input = <StringListField value={value} onChange={onChange} />;
      break;
    default: {
      const multiline = prop.editor === "textarea";
      if (prop.liquid && prop.kind === "string") {
        input = (
          <LiquidInput
            id={fieldId}
            value={text}
            multiline={multiline}
            invalid={!!error}
            suggestions={suggestions}
            onChange={(v) => onChange(v === "" ? undefined : v)}
          />
        );
      } else if (multiline) {
        input = (
          <textarea id={fieldId} rows={4} className={error ? "invalid" : ""} value={text} onChange={(e) => onChange(e.target.value || undefined)} />
        );
      } else {
        input = (
          <input
            id={fieldId}
            type="text"
            className={error ? "invalid" : ""}
            value={text}
            onChange={(e) =>
              onChange(prop.kind === "integer" || prop.kind === "number" ? numberValue(prop, e.target.value) : e.target.value || undefined)
            }
          />
        );
      }
    }
  }
  return (
    <div className={`field${error ? " field-error" : ""}`} data-field={prop.name}>
      {prop.editor !== "checkbox" && (
        <label htmlFor={fieldId}>
          {prop.label}
          {prop.required && <span className="req"> *</span>}
        </label>
      )}
      {input}
      {prop.help && <div className="help">{prop.help}</div>}
      {error && <div className="error-text" role="alert">{error}</div>}
    </div>
  );
}
