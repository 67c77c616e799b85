"""Password hashing (argon2id) and the password rules of SECURITY.md promise 5."""
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 12
MAX_LENGTH = 128

# Production parameters (SECURITY.md): time_cost 3, 64 MiB, parallelism 4.
DEFAULT_PARAMS = {"time_cost": 3, "memory_cost": 64 * 1024, "parallelism": 4}


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID)


def hasher() -> PasswordHasher:
    params = current_app.config.get("ARGON2_PARAMS", DEFAULT_PARAMS)
    return _hasher(params["time_cost"], params["memory_cost"], params["parallelism"])


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant work whether or not the account exists: an unknown user is checked against a dummy hash."""
    target = stored_hash or _dummy_hash()
    try:
        ok = hasher().verify(target, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return ok and stored_hash is not None


def needs_rehash(stored_hash: str) -> bool:
    return hasher().check_needs_rehash(stored_hash)


def _dummy_hash() -> str:
    cache = current_app.extensions.setdefault("argon2_dummy", {})
    key = repr(current_app.config.get("ARGON2_PARAMS", DEFAULT_PARAMS))
    if key not in cache:
        cache[key] = hasher().hash("not-a-real-password-used-for-timing")
    return cache[key]


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    # zxcvbn ships the 30,000 most common passwords from leaked corpora.
    return frozenset(p.casefold() for p in FREQUENCY_LISTS["passwords"])


def password_problems(password: str, username: str | None = None) -> list[str]:
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        problems.append(f"Use at most {MAX_LENGTH} characters.")
    folded = password.casefold()
    if folded in common_passwords() or folded.strip() in common_passwords():
        problems.append("That password is on a list of commonly used passwords; choose another.")
    elif username and folded == username.casefold():
        problems.append("Your password must not be your username.")
    return problems
