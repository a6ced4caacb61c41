"""Parameter validation: unknown names, wrong types, ranges, choices, profile defaults."""

import pytest

from ftlib import sections
from ftlib.errors import ParameterError
from ftlib.params import Param, check_value, notebook_parameters, validate

KEY = "adversarial_ft/experiment_setup"


def base(**kw):
    return {"profile": "smoke", "seed": 0, **kw}


def test_profile_values_fill_none():
    s = sections.resolve(KEY, base())
    assert s.epochs == sections.get(KEY).profiles["smoke"]["epochs"]
    assert "epochs" in s.from_profile and "profile" not in s.from_profile


def test_explicit_value_wins():
    s = sections.resolve(KEY, base(epochs=3))
    assert s.epochs == 3 and "epochs" not in s.from_profile


@pytest.mark.parametrize("given, name", [
    (base(no_such_param=1), "no_such_param"),
    (base(epochs="abc"), "epochs"),
    (base(epochs=2.5), "epochs"),
    (base(epochs=True), "epochs"),
    (base(epochs=0), "epochs"),
    (base(lr=-1.0), "lr"),
    (base(lr=float("nan")), "lr"),
    (base(profile="fast"), "profile"),
    (base(seed=None), "seed"),
    (base(tikhonov_lambdas="0.1"), "tikhonov_lambdas"),
    (base(tikhonov_lambdas=["a"]), "tikhonov_lambdas"),
    (base(tikhonov_lambdas=[-0.1]), "tikhonov_lambdas"),
    (base(tikhonov_lambdas=[]), "tikhonov_lambdas"),
])
def test_bad_parameter_names_it(given, name):
    with pytest.raises(ParameterError) as info:
        sections.resolve(KEY, given)
    assert f"'{name}'" in str(info.value)


def test_unknown_lists_allowed_names():
    with pytest.raises(ParameterError, match="accepts: .*epochs"):
        sections.resolve(KEY, base(epoch=3))


def test_int_promoted_for_float():
    assert sections.resolve(KEY, base(lr=1)).lr == 1.0
    assert sections.resolve(KEY, base(tikhonov_lambdas=[0, 1])).tikhonov_lambdas == [0.0, 1.0]


def test_every_profile_value_is_valid():
    """Each profile's settings pass the section's own validation."""
    for key, section in sections.SECTIONS.items():
        for profile, values in section.profiles.items():
            assert set(values) == {p.name for p in section.params}, (key, profile)
            validate(section.spec, {"profile": profile, "seed": 0, **values})


def test_notebook_parameters_filters_kernel_names():
    import math

    ns = {"profile": "quick", "seed": 1, "math": math, "_x": 1, "In": [], "get_ipython": print, "f": lambda: 0,
          "int": int}
    assert notebook_parameters(ns) == {"profile": "quick", "seed": 1}


def test_describe_mentions_choices_and_range():
    p = Param("x", float, "h", low=0, high=1)
    assert "[0, 1]" in p.describe()
    with pytest.raises(ParameterError):
        check_value(p, 2.0)


def test_unknown_section():
    with pytest.raises(ParameterError, match="unknown section"):
        sections.get("nope/nothing")


@pytest.mark.parametrize("key, given, name, element", [
    ("continuous_limit/theorem1", {"t1_widths": [[10, 2.5, 1]]}, "t1_widths", "[0][1]: 2.5"),
    ("continuous_limit/theorem1", {"t1_widths": [[10, "a", 1]]}, "t1_widths", "[0][1]: 'a'"),
    ("continuous_limit/theorem1", {"t1_widths": [[10, 0, 1]]}, "t1_widths", "[0][1]: 0"),
    ("continuous_limit/theorem1", {"t1_widths": [[10, [2], 1]]}, "t1_widths", "[0][1]: [2]"),
    ("continuous_limit/theorem1", {"t1_widths": [[]]}, "t1_widths", "element 0 is empty"),
    ("continuous_limit/theorem1", {"t1_widths": [10, 1]}, "t1_widths", "element 0: 10"),
    ("continuous_limit/architectures", {"models": ["vgg16", "resnet"]}, "models", "element 1: 'resnet'"),
    ("continuous_limit/continuity", {"datasets": ["mnist", 3]}, "datasets", "element 1: 3"),
    ("continuous_limit/continuity", {"datasets": ["cifar"]}, "datasets", "element 0: 'cifar'"),
])
def test_nested_list_values_are_rejected_by_name(key, given, name, element):
    """Inside lists (and lists of lists) every element is checked: one ParameterError naming parameter and element."""
    with pytest.raises(ParameterError) as info:
        sections.resolve(key, base(**given))
    assert f"'{name}'" in str(info.value) and element in str(info.value)


def test_hints_show_the_right_kind_and_integer_bounds():
    seed = sections.get(KEY).spec["seed"]
    assert "2147483647" in seed.describe() and "e+09" not in seed.describe()
    widths = Param("w", list, "h", item=int, low=2)
    assert "-y 'w: [2, 3]'" in widths.describe()
    nested = sections.get("continuous_limit/theorem1").spec["t1_widths"]
    assert "lists of integers" in nested.describe() and "[[1, 2]]" in nested.describe()
    assert "[0.0, 0.1]" in Param("f", list, "h", item=float, low=0.0).describe()
