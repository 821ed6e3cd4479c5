"""Password hashes: salted scrypt, verified in constant time, never the password itself."""

from __future__ import annotations

from lablens.server.passwords import hash_password, verify_password


def test_a_hash_verifies_its_password_only():
    stored = hash_password("correct horse battery")
    assert stored.startswith("scrypt$") and "correct" not in stored
    assert verify_password("correct horse battery", stored)
    assert not verify_password("correct horse batterY", stored)
    assert not verify_password("", stored)


def test_the_same_password_hashes_differently_each_time():
    assert hash_password("same-password") != hash_password("same-password")


def test_a_user_without_a_password_or_a_broken_hash_never_verifies():
    assert not verify_password("anything", None)
    assert not verify_password("anything", "")
    assert not verify_password("anything", "scrypt$bad")
    assert not verify_password("anything", "md5$1$2$3$4$5")
