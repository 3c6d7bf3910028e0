"""Who is asking, from Nightbot's and Fossabot's headers or the query parameters that
StreamElements, Streamlabs and Streamer.bot fill in; roles believed only when trusted."""

from __future__ import annotations

import pytest

from tunedeck.requests.viewers import (
    MAX_NAME,
    Role,
    Viewer,
    from_fossabot,
    from_nightbot,
    from_query,
    identify,
    role_from_label,
)

# As Nightbot's documentation shows them.
NIGHTBOT_OWNER = {
    "Nightbot-Response-Url": "https://api.nightbot.tv/1/channel/send/TVRRM05UazRNVGsyT1RnNE1T",
    "Nightbot-User": "name=night&displayName=night&provider=twitch&providerId=11785491"
    "&userLevel=owner",
    "Nightbot-Channel": "name=night&displayName=Night&provider=twitch&providerId=11785491",
}
CHANNEL = "name=night&displayName=Night&provider=twitch&providerId=11785491"


def nightbot(user: str, channel: str = CHANNEL) -> dict[str, str]:
    return {"Nightbot-User": user, "Nightbot-Channel": channel}


# As Fossabot's documentation lists them.
FOSSABOT = {
    "x-fossabot-channelid": "rAbCdEfGhIjKlMnOp",
    "x-fossabot-channeldisplayname": "Night",
    "x-fossabot-channellogin": "night",
    "x-fossabot-channelprovider": "twitch",
    "x-fossabot-channelproviderid": "11785491",
    "x-fossabot-hasmessage": "true",
    "x-fossabot-message-id": "4e1ad8a5-7b5c-4c2e-9a0f-2a1b3c4d5e6f",
    "x-fossabot-message-userlogin": "coolviewer",
    "x-fossabot-message-userdisplayname": "CoolViewer",
    "x-fossabot-message-userprovider": "twitch",
    "x-fossabot-message-userproviderid": "22334455",
    "user-agent": "Fossabot Web Proxy",
}


def test_nightbot_owner() -> None:
    viewer = from_nightbot(NIGHTBOT_OWNER, trust_roles=True)
    assert viewer == Viewer(
        platform="twitch",
        id="11785491",
        login="night",
        display_name="night",
        role=Role.BROADCASTER,
        claimed=Role.BROADCASTER,
    )


@pytest.mark.parametrize(
    ("level", "role"),
    [
        ("owner", Role.BROADCASTER),
        ("moderator", Role.MODERATOR),
        ("twitch_vip", Role.VIP),
        ("regular", Role.SUBSCRIBER),
        ("subscriber", Role.SUBSCRIBER),
        ("everyone", Role.REGULAR),
        ("admin", Role.REGULAR),
        ("Moderator", Role.MODERATOR),
        ("superuser", Role.REGULAR),
        ("", Role.REGULAR),
    ],
)
def test_nightbot_user_levels(level: str, role: Role) -> None:
    user = f"name=viewer&displayName=Viewer&provider=twitch&providerId=999&userLevel={level}"
    viewer = from_nightbot(nightbot(user), trust_roles=True)
    assert viewer is not None
    assert viewer.role is role


def test_nightbot_youtube_names_are_url_encoded() -> None:
    user = (
        "name=Ren%C3%A9e%20Ch%C3%A2teau&displayName=Ren%C3%A9e%20Ch%C3%A2teau"
        "&provider=youtube&providerId=UC1234567890abcdefghijkl&userLevel=subscriber"
    )
    viewer = from_nightbot(nightbot(user, "provider=youtube&providerId=UCzzz"), trust_roles=True)
    assert viewer is not None
    assert viewer.display_name == "Renée Château"
    assert viewer.login == "renéechâteau"
    assert (viewer.platform, viewer.id, viewer.role) == (
        "youtube",
        "UC1234567890abcdefghijkl",
        Role.SUBSCRIBER,
    )


def test_nightbot_sender_of_the_channels_own_id_is_the_broadcaster() -> None:
    user = "name=night&displayName=Night&provider=twitch&providerId=11785491&userLevel=everyone"
    viewer = from_nightbot(nightbot(user), trust_roles=True)
    assert viewer is not None
    assert viewer.role is Role.BROADCASTER


def test_nightbot_repeated_levels_are_read_at_the_least_trusted() -> None:
    user = "name=x&displayName=x&providerId=1&userLevel=owner&userLevel=everyone"
    viewer = from_nightbot(nightbot(user), trust_roles=True)
    assert viewer is not None
    assert viewer.role is Role.REGULAR


def test_nightbot_timer_or_another_bot() -> None:
    assert from_nightbot({"Nightbot-Channel": CHANNEL}, trust_roles=True) is None
    assert from_nightbot({}, trust_roles=True) is None
    assert from_nightbot({"nightbot-user": "providerId=%ZZ&&&"}, trust_roles=True) is None
    garbled = from_nightbot({"nightbot-user": "name=ok&providerId=%ZZ&&&"}, trust_roles=True)
    assert garbled is not None
    assert (garbled.login, garbled.id, garbled.role) == ("ok", None, Role.REGULAR)
    flood = "&".join(f"k{n}=v" for n in range(100))
    assert from_nightbot({"Nightbot-User": flood}, trust_roles=True) is None


def test_headers_are_read_whatever_their_case() -> None:
    lower = {key.lower(): value for key, value in NIGHTBOT_OWNER.items()}
    assert from_nightbot(lower, trust_roles=True) == from_nightbot(NIGHTBOT_OWNER, trust_roles=True)


def test_fossabot_viewer() -> None:
    viewer = from_fossabot(FOSSABOT, {}, trust_roles=True)
    assert viewer == Viewer(
        platform="twitch",
        id="22334455",
        login="coolviewer",
        display_name="CoolViewer",
        role=Role.REGULAR,
        claimed=Role.REGULAR,
    )


def test_fossabot_broadcaster_is_the_channels_own_id() -> None:
    own = {**FOSSABOT, "x-fossabot-message-userproviderid": "11785491"}
    viewer = from_fossabot(own, {}, trust_roles=True)
    assert viewer is not None
    assert viewer.role is Role.BROADCASTER


def test_fossabot_role_from_a_level_header_or_the_query() -> None:
    leveled = {**FOSSABOT, "x-fossabot-message-userlevel": "moderator"}
    assert (viewer := from_fossabot(leveled, {}, trust_roles=True)) is not None
    assert viewer.role is Role.MODERATOR
    older = {**FOSSABOT, "x-fossabot-senderlevel": "vip"}
    assert (viewer := from_fossabot(older, {}, trust_roles=True)) is not None
    assert viewer.role is Role.VIP
    assert (viewer := from_fossabot(FOSSABOT, {"role": "sub"}, trust_roles=True)) is not None
    assert viewer.role is Role.SUBSCRIBER


def test_fossabot_without_message_headers() -> None:
    timer = {k: v for k, v in FOSSABOT.items() if not k.startswith("x-fossabot-message")}
    assert from_fossabot(timer, {}, trust_roles=True) is None


def test_streamelements_query() -> None:
    # $(customapi https://…/v1/chat/sr?token=…&q=$(queryescape ${1:})&user=${user.name}
    #   &name=${user}&level=${user.level}&platform=twitch)
    viewer = from_query(
        {"user": "coolviewer", "name": "CoolViewer", "level": "500", "platform": "twitch"},
        trust_roles=True,
    )
    assert viewer is not None
    assert (viewer.login, viewer.display_name, viewer.role) == (
        "coolviewer",
        "CoolViewer",
        Role.MODERATOR,
    )


def test_streamlabs_query() -> None:
    # {readapi https://…/v1/chat/sr?token=…&q={1:}&user=$userid&name=$username}
    viewer = from_query({"user": "coolviewer", "name": "CoolViewer"}, trust_roles=True)
    assert viewer is not None
    assert (viewer.login, viewer.role, viewer.platform) == ("coolviewer", Role.REGULAR, "unknown")


def test_streamerbot_query_flags() -> None:
    # …&user=%user%&id=%userId%&mod=%isModerator%&vip=%isVip%&sub=%isSubscribed%
    flags = {"user": "CoolViewer", "id": "22334455", "mod": "False", "vip": "True", "sub": "True"}
    viewer = from_query(flags, trust_roles=True)
    assert viewer is not None
    assert (viewer.id, viewer.role) == ("22334455", Role.VIP)
    assert (viewer := from_query({**flags, "broadcaster": "1"}, trust_roles=True)) is not None
    assert viewer.role is Role.BROADCASTER


@pytest.mark.parametrize("placeholder", ["${user}", "$(user)", "$userid", "%user%", "{user.name}"])
def test_a_variable_the_bot_left_unreplaced_is_absent(placeholder: str) -> None:
    assert from_query({"user": placeholder}, trust_roles=True) is None
    viewer = from_query({"user": "real", "name": placeholder}, trust_roles=True)
    assert viewer is not None
    assert viewer.display_name == "real"


def test_a_dollar_name_is_a_name() -> None:
    viewer = from_query({"name": "$uicideboy$"}, trust_roles=True)
    assert viewer is not None
    assert viewer.display_name == "$uicideboy$"


def test_roles_are_not_believed_without_trust() -> None:
    for viewer in (
        from_nightbot(NIGHTBOT_OWNER, trust_roles=False),
        from_fossabot(
            {**FOSSABOT, "x-fossabot-message-userlevel": "moderator"}, {}, trust_roles=False
        ),
        from_query({"user": "x", "role": "broadcaster"}, trust_roles=False),
    ):
        assert viewer is not None
        assert viewer.role is Role.REGULAR
        assert viewer.claimed is not Role.REGULAR


@pytest.mark.parametrize(
    ("label", "role"),
    [
        ("broadcaster", Role.BROADCASTER),
        ("Streamer", Role.BROADCASTER),
        ("MOD", Role.MODERATOR),
        ("super-mod", Role.MODERATOR),
        ("editor", Role.MODERATOR),
        ("Twitch VIP", Role.VIP),
        ("sub", Role.SUBSCRIBER),
        ("member", Role.SUBSCRIBER),
        ("regular", Role.REGULAR),
        ("viewer", Role.REGULAR),
        ("100", Role.REGULAR),
        ("250", Role.SUBSCRIBER),
        ("300", Role.SUBSCRIBER),
        ("400", Role.VIP),
        ("500", Role.MODERATOR),
        ("1000", Role.MODERATOR),
        ("1500", Role.BROADCASTER),
        ("2000", Role.BROADCASTER),
        ("99999999999999999999", Role.BROADCASTER),
        ("king", None),
        ("", None),
    ],
)
def test_role_labels(label: str, role: Role | None) -> None:
    assert role_from_label(label) is role


def test_names_are_untrusted_text() -> None:
    viewer = from_query(
        {"user": "@Evil\u202eUser\x00", "name": "\u202eEvil\x00 " + "x" * 500, "id": "<script>"},
        trust_roles=True,
    )
    assert viewer is not None
    assert viewer.login == "eviluser"
    assert "\u202e" not in viewer.display_name
    assert "\x00" not in viewer.display_name
    assert len(viewer.display_name) <= MAX_NAME
    assert viewer.display_name.endswith("…")
    assert viewer.id is None  # not an id's characters


def test_a_handle_too_long_is_dropped_not_cut() -> None:
    viewer = from_query({"user": "x" * 65, "id": "123"}, trust_roles=True)
    assert viewer is not None
    assert (viewer.login, viewer.id, viewer.display_name) == (None, "123", "x" * 63 + "…")
    assert (found := from_query({"user": "x" * 64}, trust_roles=True)) is not None
    assert found.login == "x" * 64


def test_platform_is_a_short_word() -> None:
    viewer = from_query({"user": "x", "platform": "Twitch"}, trust_roles=True)
    assert viewer is not None
    assert viewer.platform == "twitch"
    viewer = from_query({"user": "x", "platform": "<b>tw itch</b>"}, trust_roles=True)
    assert viewer is not None
    assert viewer.platform == "unknown"


def test_nobody_named() -> None:
    assert from_query({}, trust_roles=True) is None
    assert from_query({"user": "   ", "role": "mod"}, trust_roles=True) is None
    assert identify({}, {}, trust_roles=True) is None


def test_identify_prefers_nightbot_then_fossabot_then_the_query() -> None:
    query = {"user": "fromquery", "role": "mod"}
    both = {**NIGHTBOT_OWNER, **FOSSABOT}
    assert (found := identify(both, query, trust_roles=True)) is not None
    assert found.login == "night"
    assert (found := identify(FOSSABOT, query, trust_roles=True)) is not None
    assert (found.login, found.role) == ("coolviewer", Role.MODERATOR)
    assert (found := identify({}, {"USER": "fromquery", "Role": "mod"}, trust_roles=True))
    assert (found.login, found.role) == ("fromquery", Role.MODERATOR)
