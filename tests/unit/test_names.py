import pytest

from rooms.names import InvalidRoomName, group_for, room_name_from_topic, topic_for


def test_topic_maps_to_group_through_room_name() -> None:
    name = room_name_from_topic("room:Team-42_a")
    assert name == "Team-42_a"
    assert group_for(name) == "room.Team-42_a"
    assert topic_for(name) == "room:Team-42_a"


@pytest.mark.parametrize(
    "topic", ["room:", "room:a:b", "room:-x", "lobby:x", "room:" + "a" * 65, "room:é", "room:a b"]
)
def test_bad_topics_are_refused(topic: str) -> None:
    with pytest.raises(InvalidRoomName):
        room_name_from_topic(topic)


def test_longest_group_name_stays_under_channels_limit() -> None:
    assert len(group_for("a" * 64)) < 100
