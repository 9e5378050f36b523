"""What a worker process holds: settings, engine, sessionmaker. Built once per process."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server import clock
from server.db.engine import make_engine, make_sessionmaker
from server.settings import Settings, get_settings


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]

    @classmethod
    def create(cls, settings: Settings | None = None) -> "Runtime":
        settings = settings or get_settings()
        clock.configure(settings.test_clock)
        engine = make_engine(settings.database_url)
        return cls(settings=settings, engine=engine, sessionmaker=make_sessionmaker(engine))

    async def close(self) -> None:
        await self.engine.dispose()
