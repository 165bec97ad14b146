from cloud_api.cli import main


def test_cloud_entrypoint_says_it_is_not_in_this_build(capsys):
    assert main(["serve"]) == 2
    assert "not part of this build" in capsys.readouterr().err
    assert main(["--help"]) == 0
    assert "serve" in capsys.readouterr().out
