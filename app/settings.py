"""Groundwork's settings: the only module that reads the environment.

Every setting has the prefix ``GROUNDWORK_``; nested groups use ``__``, e.g.
``GROUNDWORK_MAIL__SMTP_HOST=smtp.city.gov`` or ``GROUNDWORK_TILES__MAX_FEATURES=20000``.
"""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class MailSettings(BaseModel):
    """Outgoing mail. Every message is queued in the outbox (table ``outbox_message``) in the same
    transaction as the change that sends it; a mail sender delivers the queue outside requests: a
    thread of each server process (``background_sender``) and ``groundwork mail send``. With no SMTP
    host, mail only goes to the outbox page (development).

    A failed delivery is tried again after ``retry_base_s`` doubled per attempt, ``max_attempts``
    times in all, then marked failed with its error. A message claimed by a sender that stopped
    (killed mid-send) is claimed again after ``claim_timeout_s``. Messages older than ``max_age_s``
    are never sent (e.g. a development outbox when a mail server is set later)."""

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    smtp_timeout_s: float = 15.0
    sender: str = "Groundwork <no-reply@groundwork.local>"
    background_sender: bool = Field(default=True, description="Each server process delivers queued mail and "
                                    "tidies expired rows in a thread; false: only `groundwork mail send` and "
                                    "`groundwork housekeeping` do (from cron).")
    sender_poll_s: float = 2.0
    max_attempts: int = 8
    retry_base_s: float = 60.0
    claim_timeout_s: float = 600.0
    max_age_s: int = 2 * 24 * 3600
    housekeeping_every_s: float = 3600.0


class SecuritySettings(BaseModel):
    """Sessions, sign-in throttling, proxies. A session ends after ``session_idle_s`` without a
    request, and ``session_max_age_s`` after sign-in whatever happens.

    Sign-in failures slow down the address they come from, never the account everywhere: after
    ``login_free_failures`` for one account from one address (or ``login_free_failures_per_ip`` for
    any accounts from one address) within ``login_window_s``, each further attempt waits
    ``login_delay_base_s`` doubled per failure, up to ``login_delay_max_s``.

    ``trusted_proxies`` (addresses or networks, e.g. ``["10.0.0.2", "10.1.0.0/16"]``) are the only
    peers whose ``X-Forwarded-For`` is believed; by default, nobody's."""

    session_cookie: str = "groundwork_session"
    session_max_age_s: int = 14 * 24 * 3600
    session_idle_s: int = 24 * 3600
    https_only_cookies: bool = False
    password_reset_ttl_s: int = 3600
    registration_ttl_s: int = 24 * 3600
    login_free_failures: int = 5
    login_free_failures_per_ip: int = 40
    login_delay_base_s: int = 2
    login_delay_max_s: int = 15 * 60
    login_window_s: int = 24 * 3600
    login_attempts_kept_days: int = 30  # staff see them on /staff/sign-ins; older ones are tidied away
    # Mail an anonymous visitor can make Groundwork send (registration, password reset) is throttled like
    # sign-in failures: after ``account_mail_free_per_address`` to one address from one client address (or
    # ``…_per_ip`` from one client address) within ``account_mail_window_s``, each further one waits
    # ``account_mail_delay_base_s`` doubled per message, up to ``account_mail_delay_max_s``. A held-back
    # request gets the same page as a sent one.
    account_mail_free_per_address: int = 3
    account_mail_free_per_ip: int = 30
    # from anywhere: after this many to one recipient, at most one mail per spacing (never longer, so
    # nobody can hold back another person's reset mail for long)
    account_mail_free_per_recipient: int = 10
    account_mail_recipient_spacing_s: int = 5 * 60
    account_mail_delay_base_s: int = 15 * 60
    account_mail_delay_max_s: int = 24 * 3600
    account_mail_window_s: int = 24 * 3600
    min_password_length: int = 10
    trusted_proxies: list[str] = []
    allow_public_bind_in_development: bool = False


class TileSettings(BaseModel):
    """Vector tiles (after tipg's MVTSettings)."""

    extent: int = 4096
    buffer: int = 64
    max_features: int = 20_000
    max_zoom: int = 22
    cache_max_age_s: int = 60  # unrevisioned tile URLs; TileJSON's revisioned ones are immutable
    cache_dir: str = Field(default=str(Path(tempfile.gettempdir()) / "groundwork-tiles"),
                           description="Rendered tiles, shared by every worker (a local path on one "
                                       "machine). Empty: no cache.")
    revision_ttl_s: float = Field(default=5.0, description="The longest a worker trusts its layers' "
                                  "revisions without reading them (changes are also pushed at once).")
    memory_mb: int = Field(default=64, description="Each worker keeps its most asked-for tiles in memory, "
                           "up to this size (0: none); keyed by the layers' versions like the disk cache.")
    prerender_max_zoom: int = Field(default=13, description="When a worker sees a layer at a new version "
                                    "(an import), one worker draws its tiles from the layer's min zoom up to "
                                    "this zoom over its extent into the disk cache, before residents ask "
                                    "(at most 1000 per layer). 0: off; needs cache_dir.")


class ImportSettings(BaseModel):
    """Importing condition layers. ``work_dir`` keeps uploads between preview and confirm; it must be
    shared by every worker (a local path on one machine, a shared volume beyond)."""

    max_upload_mb: int = 200
    max_unzipped_mb: int = 1000
    http_timeout_s: float = 30.0
    http_retries: int = 3
    http_backoff_s: float = 0.5
    arcgis_page_size: int = 1000
    work_dir: str = str(Path(tempfile.gettempdir()) / "groundwork-imports")
    work_max_age_s: int = 24 * 3600
    # Imports confirmed on the staff page run as jobs (table import_job) in worker threads of the server:
    # ``job_workers`` per process; a running job whose heartbeat is older than ``job_stale_s`` is failed.
    job_workers: int = 1
    job_poll_s: float = 1.0
    job_heartbeat_s: float = 5.0
    job_stale_s: float = 60.0
    job_process: bool = Field(default=True, description="Run each job in a Python process of its own (its CPU "
                              "apart from the server's requests, its memory given back when it ends); off: in "
                              "the worker thread.")
    max_features: int = 1_000_000
    max_json_depth: int = 40
    preview_in_request_mb: float = Field(default=5.0, description="A file up to this size is checked in the "
                                         "preview's own request; a larger one by a job in the background, the "
                                         "page showing its progress (the server's memory stays its own).")
    private_hosts_allowed: list[str] = Field(
        default=[], description="Host names an import by URL may fetch although they resolve to a private, "
                                "loopback or link-local address (an internal GIS server). Empty: none.")


class MapSettings(BaseModel):
    """The public map. With no basemap the condition layers still draw (closed networks)."""

    basemap_style_url: str | None = None
    basemap_attribution: str = ""


class OpenDataSettings(BaseModel):
    """Open data downloads and the /data catalog."""

    licence_name: str = "ODC-PDDL-1.0"
    licence_url: str = "https://opendatacommons.org/licenses/pddl/1-0/"
    publisher: str = "City of Groundwork"
    contact_email: str | None = None
    cache_max_age_s: int = 300


class GroupSettings(BaseModel):
    """Community groups: how long an invitation link stays valid."""

    invite_ttl_s: int = 7 * 24 * 3600


class DeliverySettings(BaseModel):
    """After the vote: photos of ballot projects' updates, re-encoded and kept under ``photo_dir``
    (shared by every worker, like the imports' work directory)."""

    photo_dir: str = str(Path(tempfile.gettempdir()) / "groundwork-photos")
    max_photo_mb: int = 10
    max_photo_px: int = 1600  # the longer side after re-encoding
    unsubscribe_link_days: int = 730  # how long a follow mail's one-click unsubscribe link works


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GROUNDWORK_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    environment: Literal["development", "production", "test"] = "development"
    database_url: str = "sqlite:///groundwork.sqlite"
    secret_key: str | None = Field(default=None, description="Signs session cookies and CSRF tokens.")
    spatialite_path: str = "mod_spatialite"
    site_name: str = "Groundwork"
    base_url: str = "http://127.0.0.1:8000"
    log_level: str = "info"

    mail: MailSettings = MailSettings()
    security: SecuritySettings = SecuritySettings()
    tiles: TileSettings = TileSettings()
    imports: ImportSettings = ImportSettings()
    map: MapSettings = MapSettings()
    opendata: OpenDataSettings = OpenDataSettings()
    groups: GroupSettings = GroupSettings()
    delivery: DeliverySettings = DeliverySettings()

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def outbox_available(self) -> bool:
        """With no mail server, admins read mailed links on the outbox page (no one else ever does)."""
        return not self.mail.smtp_host


@lru_cache
def get_settings() -> Settings:
    return Settings()
