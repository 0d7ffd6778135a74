"""Link templates allow only their documented placeholders and only http(s) links (issue 9, item 16)."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_modelstudio.foundry.errors import FoundryConfigError
from airflow_provider_modelstudio.foundry.settings import LinkTemplate
from tests.foundry.support import settings_from

RID = "ri.foundry.main.build.b1"


def settings_with(template: Any) -> Any:
    return settings_from(
        {
            "conn_type": "foundry",
            "host": "example.palantirfoundry.com",
            "password": "tok-12345",
            "extra": {"build_url_template": template},
        }
    )


@pytest.mark.parametrize(
    "template",
    [
        "{base_url.__class__}",
        "{base_url.__class__.__init__.__globals__}/x",
        "{base_url}/{build_rid[0]}",
        "{base_url!r}/{build_rid}",
        "{base_url}/{build_rid:>300}",
        "{base_url}/{build_rid.__len__}",
    ],
)
def test_a_template_reaching_beyond_plain_placeholders_is_refused(template: str) -> None:
    with pytest.raises(FoundryConfigError) as info:
        settings_with(template)
    message = str(info.value)
    assert "build_url_template=" in message
    assert "{base_url}, {host}, {build_rid}" in message


@pytest.mark.parametrize(
    "template",
    [
        "javascript:alert(document.cookie)//{build_rid}",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>{build_rid}",
        "{host}/builds/{build_rid}",
        "//{host}/builds/{build_rid}",
        "{build_rid}",
        "https:{build_rid}",
    ],
)
def test_a_template_that_is_not_an_http_link_is_refused(template: str) -> None:
    with pytest.raises(FoundryConfigError, match="not an http\\(s\\) URL"):
        settings_with(template)


@pytest.mark.parametrize(
    ("template", "link"),
    [
        ("{base_url}/b/{build_rid}", f"https://example.palantirfoundry.com/b/{RID}"),
        ("https://portal.example/{host}/{build_rid}", f"https://portal.example/example.palantirfoundry.com/{RID}"),
        ("http://tracker.example/{{literal}}/{build_rid}", f"http://tracker.example/{{literal}}/{RID}"),
    ],
)
def test_templates_with_the_documented_placeholders_render(template: str, link: str) -> None:
    assert settings_with(template).build_url(RID) == link


def test_the_checker_serves_other_link_templates_with_their_own_placeholders() -> None:
    versions = LinkTemplate(
        "model_version_url_template", ("base_url", "model_version_rid"), "{base_url}/v/{model_version_rid}"
    )
    versions.check("c1", "{base_url}/versions/{model_version_rid}", base_url="https://f.example")
    assert versions.render(
        "c1", "{base_url}/v/{model_version_rid}", base_url="https://f.example", model_version_rid="ri.v"
    ) == ("https://f.example/v/ri.v")
    with pytest.raises(FoundryConfigError, match=r"Use only the placeholders \{base_url\}, \{model_version_rid\}"):
        versions.check("c1", "{base_url}/{build_rid}", base_url="https://f.example")
