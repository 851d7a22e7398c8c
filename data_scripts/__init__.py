"""Dataset preparation scripts (download / verify / extract / index / resize); see data_scripts/README.md.

Each script runs stand-alone (`python data_scripts/davis2017.py --help`) and is importable for tests
(`data_scripts.davis2017.main(argv) -> exit code`). Not part of the installed `stt_nb` package."""
