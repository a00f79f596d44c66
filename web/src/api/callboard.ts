// Callboard's own API: widget schemas and the simulator channel.

import { request } from "./client";
import type { SimCall, SimMessage, WidgetSchema } from "./types";

export const fetchWidgetTypes = async (): Promise<WidgetSchema[]> =>
  (await request<{ widget_types: WidgetSchema[] }>("GET", "/callboard/v1/WidgetTypes"))
    .widget_types;

// The simulator channel (docs/simulator.md).
export const simSendMessage = (flowSid: string, from: string, to: string, body: string) =>
  request<SimMessage>("POST", "/callboard/v1/Simulator/Messages", {
    form: { FlowSid: flowSid, From: from, To: to, Body: body },
  });

export const simListMessages = async (flowSid: string, contact: string): Promise<SimMessage[]> =>
  (
    await request<{ messages: SimMessage[] }>("GET", "/callboard/v1/Simulator/Messages", {
      query: { FlowSid: flowSid, Contact: contact },
    })
  ).messages;

/** A message in a Twilio Conversation (onMessageAdded); no sid: a new Conversation. */
export interface SimConversationMessage {
  sid: string;
  conversation_sid: string;
  author: string;
  body: string;
  execution_sid: string;
  accepted: boolean;
}

export const simSendConversationMessage = (flowSid: string, conversationSid: string, author: string, body: string) =>
  request<SimConversationMessage>("POST", "/callboard/v1/Simulator/Conversations/Messages", {
    form: { FlowSid: flowSid, ConversationSid: conversationSid || undefined, Author: author, Body: body },
  });

export const simStartCall = (flowSid: string, from: string, to: string) =>
  request<SimCall>("POST", "/callboard/v1/Simulator/Calls", {
    form: { FlowSid: flowSid, From: from, To: to },
  });

export interface CallInput {
  digits?: string;
  speech?: string;
  recording?: boolean;
  hangup?: boolean;
}

/** The caller's next move; nothing at all is silence (a Gather times out). */
export const simCallInput = (callSid: string, input: CallInput) =>
  request<SimCall>("POST", `/callboard/v1/Simulator/Calls/${callSid}/Input`, {
    form: {
      Digits: input.digits,
      SpeechResult: input.speech,
      Recording: input.recording ? "true" : undefined,
      Hangup: input.hangup ? "true" : undefined,
    },
  });
