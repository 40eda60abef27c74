"""Quick demonstration: ``python -m skmorph``."""

from skmorph.demo import main

if __name__ == "__main__":
    main()
