"""Capture Payments: collect card or bank details over the phone with ``<Pay>``.

TwiML: ``<Pay action="?...&Callback=pay" method="POST" paymentConnector chargeAmount
currency tokenType paymentMethod bankAccountType description language timeout
maxAttempts securityCode postalCode minPostalCodeLength validCardTypes>`` with one
``<Parameter name value/>`` per ``parameters`` entry. An empty or zero ``payment_amount``
tokenizes the card without charging (no ``chargeAmount``).

Events, from the action call-back's ``Result``: ``success``, ``payment-connector-error`` ->
``providerError``, ``too-many-failed-attempts`` -> ``maxFailedAttempts``,
``caller-interrupted-process`` -> ``payInterrupted``, ``validation-error`` ->
``validationError``, ``caller-hung-up`` (or a hang-up call-back) -> ``hangup``; an unknown
result takes ``providerError``.
Variables: the action parameters (``Result``, ``PaymentToken``,
``PaymentConfirmationCode``, ``PaymentCardNumber`` (masked), ``PaymentCardType``,
``ExpirationDate``...). No call: warning 81020 and ``providerError``.
"""

from __future__ import annotations

from typing import Any

from callboard.contract.io import CallEvent, Event
from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Prop, Run, Widget
from callboard.widgets.common import key_values
from callboard.widgets.voice_common import (
    bool_text,
    call_params,
    callback_url,
    has_call,
    int_prop,
    is_hangup,
    new_response,
    no_call,
    respond,
    text_prop,
)

__all__ = ["WIDGET", "CapturePayments"]

RESULTS = {
    "success": "success",
    "payment-connector-error": "providerError",
    "too-many-failed-attempts": "maxFailedAttempts",
    "caller-interrupted-process": "payInterrupted",
    "validation-error": "validationError",
    "caller-hung-up": "hangup",
}
CARD_TYPES = (
    "visa",
    "master-card",
    "amex",
    "discover",
    "diners-club",
    "jcb",
    "maestro",
    "optima",
    "enroute",
)


class CapturePayments(Widget):
    type = "capture-payments"
    label = "Capture Payments"
    group = "Voice"
    description = "Collects a payment over the phone (needs PCI mode and a payment connector)."
    channel = "voice"
    events = (
        EventSpec("success", "Success"),
        EventSpec("maxFailedAttempts", "Max Failed Attempts"),
        EventSpec("providerError", "Provider Error"),
        EventSpec("payInterrupted", "Pay Interrupted"),
        EventSpec("hangup", "Hang Up"),
        EventSpec("validationError", "Validation Error"),
    )
    props = (
        OFFSET,
        Prop("payment_connector", label="Payment connector"),
        Prop("payment_amount", label="Payment amount", help="Empty or 0 tokenizes the card."),
        Prop("currency", default="usd"),
        Prop("payment_token_type", enum=("one-time", "reusable"), liquid=False, editor="select"),
        Prop(
            "payment_method",
            default="CREDIT_CARD",
            enum=("CREDIT_CARD", "ACH_DEBIT"),
            liquid=False,
            editor="select",
        ),
        Prop("bank_account_type", label="Bank account type"),
        Prop("description"),
        Prop("language"),
        Prop("timeout", kind="integer", default=5, editor="number", label="Timeout per digit"),
        Prop("max_attempts", kind="integer", default=2, editor="number"),
        Prop("security_code", kind="boolean", default=True, liquid=False, editor="checkbox"),
        Prop("postal_code", default="true", label="Postal code", help='"true", "false" or a code'),
        Prop("min_postal_code_length", kind="integer", editor="number"),
        Prop("valid_card_types", kind="string_list", liquid=False, editor="list"),
        Prop("parameters", kind="key_values", editor="key_values"),
    )
    variables = (
        "Result",
        "PaymentToken",
        "PaymentConfirmationCode",
        "ProfileId",
        "PaymentCardNumber",
        "PaymentCardType",
        "PaymentCardPostalCode",
        "ExpirationDate",
        "SecurityCode",
    )

    def start(self, run: Run) -> Outcome:
        if not has_call(run):
            return no_call(run, "Capture Payments", "providerError")
        token = run.new_token()
        amount = text_prop(run, "payment_amount")
        if amount is not None and _is_zero(amount):
            amount = None
        cards = run.prop("valid_card_types")
        card_list = (
            [str(c) for c in cards if str(c) in CARD_TYPES] if isinstance(cards, list) else []
        )
        attrs: dict[str, Any] = {
            "action": callback_url(run, token, "pay"),
            "method": "POST",
            "payment_connector": text_prop(run, "payment_connector"),
            "charge_amount": amount,
            "currency": text_prop(run, "currency") if amount else None,
            "token_type": text_prop(run, "payment_token_type"),
            "payment_method": text_prop(run, "payment_method"),
            "bank_account_type": text_prop(run, "bank_account_type"),
            "description": text_prop(run, "description"),
            "language": text_prop(run, "language"),
            "timeout": int_prop(run, "timeout", 5),
            "max_attempts": int_prop(run, "max_attempts", 2),
            "security_code": bool_text(run.prop("security_code", True)),
            "postal_code": text_prop(run, "postal_code"),
            "min_postal_code_length": int_prop(run, "min_postal_code_length"),
            "valid_card_types": " ".join(card_list) or None,
        }
        response = new_response()
        pay = response.pay(**attrs)
        for name, value in key_values(run, "parameters").items():
            pay.parameter(name=name, value=value)
        return respond(response, token)

    def resume(self, run: Run, event: Event) -> Outcome | None:
        if is_hangup(event):
            return Done("hangup", variables=call_params(event.params))
        if isinstance(event, CallEvent) and event.name == "pay":
            variables = call_params(event.params)
            result = str(variables.get("Result") or "")
            return Done(RESULTS.get(result, "providerError"), variables=variables)
        return None


def _is_zero(amount: str) -> bool:
    try:
        return float(amount) == 0
    except ValueError:
        return False


WIDGET = CapturePayments()
