#!/usr/bin/env python3
"""Provision Cognito user pools, users and sessions on a moto server.

Usage: moto_provision.py --endpoint http://127.0.0.1:PORT --out FILE

Creates two user pools ("main" and "other"), their app clients, groups and
users, signs the users in with ADMIN_USER_PASSWORD_AUTH (plus one
REFRESH_TOKEN_AUTH), and writes everything the Rust acceptance test needs
(pool ids, issuers, JWKS URLs, client ids, tokens and expected claims) to a
JSON file.  Run by scripts/moto-env.sh; it talks only to the given endpoint.
"""

import argparse
import json
import os
import sys
import tempfile

REGION = "us-east-1"

# Dummy credentials: moto accepts anything, but botocore refuses to sign
# without some.  Set before boto3 is imported so no real profile, config file
# or instance metadata is ever consulted.
for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
    os.environ.pop(_name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
)

import boto3  # noqa: E402  (must follow the environment set-up above)
from botocore.config import Config  # noqa: E402

PASSWORD = "Acceptance-Test-1!"

ADMIN_FLOWS = [
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
]

# Users: pool, attributes and groups.  "tenant" is the custom:tenant value
# (None when the pool has no such attribute).
USERS = {
    "alice": {
        "pool": "main",
        "email": "alice@example.com",
        "tenant": "acme",
        "groups": ["admins", "readers"],
    },
    "bob": {
        "pool": "main",
        "email": "bob@example.com",
        "tenant": "globex",
        "groups": [],
    },
    # Signed out globally by the revocation acceptance test; erin is the user who is not.
    "dave": {
        "pool": "main",
        "email": "dave@example.com",
        "tenant": "acme",
        "groups": [],
    },
    "erin": {
        "pool": "main",
        "email": "erin@example.com",
        "tenant": "acme",
        "groups": [],
    },
    "carol": {
        "pool": "other",
        "email": "carol@example.com",
        "tenant": None,
        "groups": [],
    },
}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--endpoint",
        required=True,
        help="moto server base URL, e.g. http://127.0.0.1:5000",
    )
    parser.add_argument("--out", required=True, help="JSON file to write")
    return parser.parse_args(argv)


def make_client(endpoint):
    return boto3.client(
        "cognito-idp",
        region_name=REGION,
        endpoint_url=endpoint,
        config=Config(
            retries={"max_attempts": 2, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
        ),
    )


def create_pool(idp, endpoint, name, client_names, with_tenant):
    kwargs = {"PoolName": name}
    if with_tenant:
        kwargs["Schema"] = [
            {
                "Name": "tenant",
                "AttributeDataType": "String",
                "Mutable": True,
            }
        ]
    pool_id = idp.create_user_pool(**kwargs)["UserPool"]["Id"]

    # moto copies a standard attribute into ID tokens only when the client
    # lists it in ReadAttributes (real Cognito defaults to "all readable"),
    # so list them explicitly.  Custom attributes are always copied by moto.
    read_attributes = ["email", "email_verified"]
    if with_tenant:
        read_attributes.append("custom:tenant")

    clients = {}
    for client_name in client_names:
        created = idp.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName=client_name,
            GenerateSecret=False,
            ExplicitAuthFlows=ADMIN_FLOWS,
            ReadAttributes=read_attributes,
        )
        clients[client_name] = created["UserPoolClient"]["ClientId"]

    return {
        "id": pool_id,
        "issuer": f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}",
        "jwks_url": f"{endpoint}/{pool_id}/.well-known/jwks.json",
        "clients": clients,
    }


def create_user(idp, pool_id, username, spec):
    attributes = [
        {"Name": "email", "Value": spec["email"]},
        {"Name": "email_verified", "Value": "true"},
    ]
    if spec["tenant"] is not None:
        attributes.append({"Name": "custom:tenant", "Value": spec["tenant"]})
    idp.admin_create_user(
        UserPoolId=pool_id,
        Username=username,
        UserAttributes=attributes,
        MessageAction="SUPPRESS",
    )
    idp.admin_set_user_password(
        UserPoolId=pool_id,
        Username=username,
        Password=PASSWORD,
        Permanent=True,
    )
    for group in spec["groups"]:
        idp.admin_add_user_to_group(
            UserPoolId=pool_id, Username=username, GroupName=group
        )

    user = idp.admin_get_user(UserPoolId=pool_id, Username=username)
    attrs = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
    if "sub" not in attrs:
        raise SystemExit(f"moto_provision: user {username} has no sub attribute")
    return attrs["sub"]


def sign_in(idp, pool_id, client_id, username):
    resp = idp.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )
    if "AuthenticationResult" not in resp:
        raise SystemExit(
            f"moto_provision: sign-in of {username} returned challenge "
            f"{resp.get('ChallengeName')!r} instead of tokens"
        )
    return resp["AuthenticationResult"]


def refresh(idp, pool_id, client_id, refresh_token):
    resp = idp.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": refresh_token},
    )
    return resp["AuthenticationResult"]


def session(pool, client, username, sub, auth):
    spec = USERS[username]
    return {
        "pool": pool,
        "client": client,
        "username": username,
        "sub": sub,
        "groups": list(spec["groups"]),
        "tenant": spec["tenant"],
        "email": spec["email"],
        "id_token": auth["IdToken"],
        "access_token": auth["AccessToken"],
    }


def provision(endpoint):
    idp = make_client(endpoint)

    pools = {
        "main": create_pool(
            idp, endpoint, "main", ["first", "second"], with_tenant=True
        ),
        "other": create_pool(idp, endpoint, "other", ["only"], with_tenant=False),
    }
    main_id = pools["main"]["id"]
    other_id = pools["other"]["id"]

    for group in ("admins", "readers"):
        idp.create_group(UserPoolId=main_id, GroupName=group)

    subs = {
        name: create_user(idp, pools[spec["pool"]]["id"], name, spec)
        for name, spec in USERS.items()
    }

    first = pools["main"]["clients"]["first"]
    second = pools["main"]["clients"]["second"]
    only = pools["other"]["clients"]["only"]

    alice_first = sign_in(idp, main_id, first, "alice")
    alice_second = sign_in(idp, main_id, second, "alice")
    bob_first = sign_in(idp, main_id, first, "bob")
    carol_other = sign_in(idp, other_id, only, "carol")
    dave_first = sign_in(idp, main_id, first, "dave")
    erin_first = sign_in(idp, main_id, first, "erin")
    alice_refreshed = refresh(idp, main_id, first, alice_first["RefreshToken"])

    sessions = {
        "alice_first": session("main", "first", "alice", subs["alice"], alice_first),
        "alice_refreshed": session(
            "main", "first", "alice", subs["alice"], alice_refreshed
        ),
        "alice_second": session(
            "main", "second", "alice", subs["alice"], alice_second
        ),
        "bob_first": session("main", "first", "bob", subs["bob"], bob_first),
        "carol_other": session("other", "only", "carol", subs["carol"], carol_other),
        "dave_first": session("main", "first", "dave", subs["dave"], dave_first),
        "erin_first": session("main", "first", "erin", subs["erin"], erin_first),
    }

    return {
        "region": REGION,
        "endpoint": endpoint,
        "pools": pools,
        "sessions": sessions,
    }


def write_json(path, data):
    # Write to a temporary file in the same directory, then rename, so a
    # reader never sees a half-written file.
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".moto-tokens.", dir=directory)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    endpoint = args.endpoint.rstrip("/")
    write_json(args.out, provision(endpoint))
    return 0


if __name__ == "__main__":
    sys.exit(main())
