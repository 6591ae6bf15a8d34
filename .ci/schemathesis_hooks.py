"""Schemathesis hooks for the GraphQL run of .ci/contract.

Schemathesis' built-in `not_a_server_error` check counts every GraphQL error that points at a
field (`path`) as a server failure unless it carries one of Apollo's client-error codes. This API
labels every error it produces with `extensions.code` (the same codes as the REST API) and
`extensions.status` (the HTTP status the same failure gets over REST): a refused request, a
missing record or a forbidden field is an expected outcome, not a server failure. This check
keeps the intent of `not_a_server_error` for GraphQL: any HTTP 5xx, any error whose status is
5xx, and any field error without a status (something the API did not produce on purpose) fail
the run.
"""

import schemathesis


@schemathesis.check
def graphql_no_server_error(ctx, response, case):
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code}: {response.text[:500]}")
    try:
        payload = response.json()
    except ValueError:
        raise AssertionError(f"not JSON: {response.text[:500]}")
    if not isinstance(payload, dict):
        raise AssertionError("GraphQL response is not a JSON object")
    for error in payload.get("errors") or []:
        extensions = error.get("extensions") or {}
        status = extensions.get("status")
        if isinstance(status, int) and status >= 500:
            raise AssertionError(f"server error: {error}")
        if "path" in error and not (isinstance(status, int) and 400 <= status < 500):
            raise AssertionError(f"field error without a client status: {error}")
