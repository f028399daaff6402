"""Workspaces (the tenancy boundary), users and their memberships."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, EmailStr
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from agentplatform.models.common import InputText, Name, UTCDateTime, created_field, id_field

Role = Literal["owner", "admin", "builder", "operator", "viewer"]
ROLES: tuple[Role, ...] = ("owner", "admin", "builder", "operator", "viewer")
Persona = Literal["builder", "prompt_engineer", "operator", "admin"]
PERSONAS: tuple[Persona, ...] = ("builder", "prompt_engineer", "operator", "admin")
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
Slug = Annotated[str, InputText(max_length=48, min_length=2, pattern=SLUG_PATTERN)]
FullName = Annotated[str, InputText(max_length=100, strip=True)]
Password = Annotated[str, InputText(max_length=256)]


class WorkspaceBase(SQLModel):
    name: str = Field(max_length=100)


class Workspace(WorkspaceBase, table=True):
    id: uuid.UUID = id_field()
    slug: str = Field(max_length=48, unique=True, index=True)
    created_at: datetime = created_field()


class WorkspaceCreate(BaseModel):
    name: Name
    slug: Slug | None = None


class WorkspacePublic(WorkspaceBase):
    id: uuid.UUID
    slug: str
    created_at: datetime
    role: Role | None = None


class WorkspacesPublic(SQLModel):
    data: list[WorkspacePublic]
    count: int


class UserBase(SQLModel):
    email: str = Field(max_length=254, unique=True, index=True)
    full_name: str = Field(default="", max_length=100)
    persona: str | None = Field(default=None, max_length=32)


class User(UserBase, table=True):
    id: uuid.UUID = id_field()
    hashed_password: str = Field(max_length=255)
    is_active: bool = True
    onboarded: bool = False
    default_workspace_id: uuid.UUID | None = Field(
        default=None, foreign_key="workspace.id", ondelete="SET NULL"
    )
    created_at: datetime = created_field()


class UserPublic(SQLModel):
    id: uuid.UUID
    email: str
    full_name: str
    persona: Persona | None
    is_active: bool
    onboarded: bool
    default_workspace_id: uuid.UUID | None
    created_at: datetime


class UserRegister(BaseModel):
    email: EmailStr
    password: Password
    full_name: FullName = ""
    persona: Persona | None = None


class UserUpdateMe(BaseModel):
    full_name: FullName | None = None
    persona: Persona | None = None
    onboarded: bool | None = None
    default_workspace_id: uuid.UUID | None = None
    current_password: Password | None = None
    new_password: Password | None = None


class Membership(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("user_id", "workspace_id", name="uq_membership_user_ws"),)

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    role: str = Field(max_length=16)
    created_at: datetime = created_field()


class MemberAdd(BaseModel):
    email: EmailStr
    role: Role


class MemberUpdate(BaseModel):
    role: Role


class MemberPublic(SQLModel):
    user_id: uuid.UUID
    email: str
    full_name: str
    role: Role
    created_at: datetime


class MembersPublic(SQLModel):
    data: list[MemberPublic]
    count: int


class RefreshToken(SQLModel, table=True):
    """A rotated, revocable refresh token; only its hash is stored."""

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    family_id: uuid.UUID = Field(index=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = created_field()


class ApiKey(SQLModel, table=True):
    """A script's credential, scoped to one workspace and one role; hash stored only."""

    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_apikey_ws_name"),)

    id: uuid.UUID = id_field()
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, unique=True, index=True)
    role: str = Field(max_length=16)
    created_by: uuid.UUID | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = created_field()
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiKeyCreate(BaseModel):
    name: Name
    role: Role = "builder"


class ApiKeyPublic(SQLModel):
    id: uuid.UUID
    name: str
    prefix: str
    role: Role
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    secret: str


class ApiKeysPublic(SQLModel):
    data: list[ApiKeyPublic]
    count: int
