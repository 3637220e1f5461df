from localex.cli import main

main()
