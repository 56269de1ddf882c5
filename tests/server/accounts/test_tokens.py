"""The API token format: `pshub_<16 hex id>_<43 url-safe secret>`, stored only as a SHA-256."""

from __future__ import annotations

import hashlib

import pytest

from pysetl_hub_server.accounts.tokens import (
    PREFIX,
    generate_token,
    hash_secret,
    mask,
    parse_token,
    secret_matches,
)

TOKEN_ID = "0123456789abcdef"
SECRET = "A" * 20 + "b-_" + "9" * 20  # 43 characters of the url-safe alphabet


def test_a_new_token_parses_back_to_its_id_and_a_secret_matching_its_hash() -> None:
    new = generate_token()
    assert new.plaintext.startswith(PREFIX) and PREFIX == "pshub_"
    parsed = parse_token(new.plaintext)
    assert parsed is not None
    token_id, secret = parsed
    assert token_id == new.token_id and len(token_id) == 16
    assert new.plaintext == f"pshub_{token_id}_{secret}"
    assert secret_matches(secret, new.secret_hash)
    assert secret not in new.secret_hash  # only the digest is kept


def test_every_token_is_new() -> None:
    a, b = generate_token(), generate_token()
    assert a.token_id != b.token_id and a.secret_hash != b.secret_hash


def test_the_stored_hash_is_the_sha256_of_the_secret() -> None:
    assert hash_secret(SECRET) == hashlib.sha256(SECRET.encode()).hexdigest()
    assert secret_matches(SECRET, hashlib.sha256(SECRET.encode()).hexdigest())
    assert not secret_matches(SECRET + "x", hash_secret(SECRET))
    assert not secret_matches(SECRET, hash_secret(SECRET).upper())


def test_parse_splits_id_and_secret_and_ignores_surrounding_space() -> None:
    assert parse_token(f"pshub_{TOKEN_ID}_{SECRET}") == (TOKEN_ID, SECRET)
    assert parse_token(f"  pshub_{TOKEN_ID}_{SECRET}\n") == (TOKEN_ID, SECRET)


@pytest.mark.parametrize(
    "text",
    [
        "",
        f"pypi_{TOKEN_ID}_{SECRET}",  # another registry's token
        f"PSHUB_{TOKEN_ID}_{SECRET}",
        f"xpshub_{TOKEN_ID}_{SECRET}",
        f"pshub_{TOKEN_ID}_{SECRET}x",  # 44-character secret
        f"pshub_{TOKEN_ID}_{SECRET[:-1]}",  # 42-character secret
        f"pshub_{TOKEN_ID[:-1]}_{SECRET}",  # 15-character id
        f"pshub_{TOKEN_ID}0_{SECRET}",  # 17-character id
        f"pshub_{TOKEN_ID.upper()}_{SECRET}",  # the id is lower-case hex
        f"pshub_{TOKEN_ID}_{SECRET[:-1]}=",  # not url-safe base64
        f"pshub_{TOKEN_ID}_{SECRET[:-1]}+",
        f"pshub_{TOKEN_ID}_{SECRET} trailing",
        f"pshub_{TOKEN_ID}-{SECRET}",
    ],
)
def test_anything_else_is_not_one_of_ours(text: str) -> None:
    assert parse_token(text) is None


def test_mask_hides_the_secret_and_keeps_the_id() -> None:
    token = f"pshub_{TOKEN_ID}_{SECRET}"
    assert mask(f"upload with {token} failed") == f"upload with pshub_{TOKEN_ID}_******** failed"
    assert mask(f"{token} and {token}") == (
        f"pshub_{TOKEN_ID}_******** and pshub_{TOKEN_ID}_********"
    )
    assert mask("nothing secret here") == "nothing secret here"
