#!/usr/bin/env python3
"""Drive the service with a Python client generated from its OpenAPI document by
openapi-python-client (nothing here is written by hand against the API but this script):
get a token, list indicators, post a submission, read an aggregate.

    BASE_URL=http://127.0.0.1:8080 CLIENT_ID=... CLIENT_SECRET=... ORG=1 python3 generated_client.py
"""
import os
import sys

from basisset_api_client import AuthenticatedClient, Client
from basisset_api_client.api.auth import request_token
from basisset_api_client.api.catalogue import list_indicators
from basisset_api_client.api.submissions import post_submission
from basisset_api_client.api.views import get_aggregate_view
from basisset_api_client.models import (
    AggregateView, FigureInput, PostOutcome, Publication, SubmissionInput, TokenRequest,
    TokenResponse,
)

base = os.environ["BASE_URL"]
anonymous = Client(base_url=base, raise_on_unexpected_status=True)

token = request_token.sync(client=anonymous, body=TokenRequest(
    grant_type="client_credentials", client_id=os.environ["CLIENT_ID"],
    client_secret=os.environ["CLIENT_SECRET"]))
assert isinstance(token, TokenResponse), token
team = AuthenticatedClient(base_url=base, token=token.access_token,
                           raise_on_unexpected_status=True)

indicators = list_indicators.sync(client=anonymous)
assert isinstance(indicators, list) and len(indicators) > 40, indicators
codes = {i.code for i in indicators}
assert "klachten" in codes

outcome = post_submission.sync(
    id=int(os.environ["ORG"]), client=team, submit=True,
    body=SubmissionInput(period="2020", publication=Publication.OPENBAAR,
                         figures=[FigureInput(indicator="klachten", value=7.0)]))
assert isinstance(outcome, PostOutcome), outcome
assert outcome.figure_count == 1 and outcome.submission_id

view = get_aggregate_view.sync(client=team, indicator="klachten", period="2020")
assert isinstance(view, AggregateView), view
assert view.total.conf_status is not None
print(f"ok: generated client: {len(indicators)} indicators, submission "
      f"{outcome.submission_id} revision {outcome.revision}, aggregate "
      f"{view.total.value} ({view.total.conf_status})")
sys.exit(0)
