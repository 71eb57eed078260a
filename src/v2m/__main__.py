from v2m.cli.main import main

main()
