from skmorph.demo import main


def test_main_job_prints_accuracies_and_draws_the_elements(tmp_path, capsys):
    output = tmp_path / "selems.png"
    main(["--output", str(output)])
    printed = capsys.readouterr().out
    assert "binarized predictor" in printed and "float network" in printed
    assert output.exists() and output.stat().st_size > 1000
    accuracy = float(printed.split("binarized predictor ")[1].split()[0].rstrip(","))
    assert accuracy >= 0.95
