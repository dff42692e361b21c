from setuptools import find_packages, setup


def readme() -> str:
    with open('README.md', encoding='utf-8') as f:
        return f.read()


def parse_requirements(path: str) -> list:
    reqs = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.split('#')[0].strip()
            if line:
                reqs.append(line)
    return reqs


setup(
    name='posewarper_mm',
    version='0.1.0',
    description='PoseWarper video pose estimation as an mmpose 1.x plugin',
    long_description=readme(),
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    packages=find_packages(include=('posewarper_mm', 'posewarper_mm.*')),
    python_requires='>=3.9',
    install_requires=parse_requirements('requirements/mminstall.txt'),
    extras_require=dict(
        tests=parse_requirements('requirements/tests.txt'),
        deploy=parse_requirements('requirements/deploy.txt')),
    zip_safe=False,
)
