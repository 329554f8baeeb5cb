from obfbroker.cli import main

main()
