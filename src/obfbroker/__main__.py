from obfbroker.cli import main

# Guarded: ``serve --workers N`` spawns processes that import this module again (as __mp_main__).
if __name__ == "__main__":
    main()
