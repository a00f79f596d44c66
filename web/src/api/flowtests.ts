// Flow tests stored with a flow (/callboard/v1/Flows/{FW}/Tests, docs/testing-flows.md).

import { request } from "./client";

export interface StoredTests {
  flow_sid: string;
  version: number;
  flow_revision: number | null;
  tests: string;
  require_green: boolean;
  date_created: string | null;
}

export interface TestFailure {
  message: string;
  where: string;
  line: number | null;
  expected: string;
  got: string;
  path: string[];
  text: string;
}

export interface TestOutcome {
  name: string;
  status: "passed" | "failed" | "error";
  failure: TestFailure | null;
  path: string[];
  seconds: number;
}

export interface UntakenTransition {
  widget: string;
  event: string;
  next: string;
}

export interface TestReport {
  passed: boolean;
  results: TestOutcome[];
  coverage: { widgets: number; transitions: number; untaken_widgets: string[]; untaken_transitions: UntakenTransition[] } | null;
  error: string | null;
}

const base = (flowSid: string) => `/callboard/v1/Flows/${flowSid}/Tests`;

export const fetchTests = (flowSid: string) => request<StoredTests>("GET", base(flowSid));

export const saveTests = (flowSid: string, tests: string, requireGreen?: boolean) =>
  request<StoredTests>("POST", base(flowSid), {
    form: { Tests: tests, RequireGreen: requireGreen === undefined ? undefined : String(requireGreen) },
  });

export const runTests = (flowSid: string, tests?: string) =>
  request<TestReport>("POST", `${base(flowSid)}/Run`, { form: { Tests: tests } });

/** The step kinds of the format, from its JSON Schema (GET /callboard/v1/Schemas/FlowTest). */
export async function fetchStepKinds(): Promise<string[]> {
  const schema = await request<{
    properties: { tests: { items: { properties: { steps: { items: { oneOf: { required: string[] }[] } } } } } };
  }>("GET", "/callboard/v1/Schemas/FlowTest");
  return schema.properties.tests.items.properties.steps.items.oneOf.map((v) => v.required[0]);
}
