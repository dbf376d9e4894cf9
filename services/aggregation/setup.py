"""The compiled part of the package (the rest is in pyproject.toml): the counting hot
path, `forbedring_aggregation.domain._tally`, from Cython. A C compiler and the Python
headers are needed to install the package."""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [
            Extension(
                "forbedring_aggregation.domain._tally",
                ["src/forbedring_aggregation/domain/_tally.pyx"],
            )
        ]
    )
)
