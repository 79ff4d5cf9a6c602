#!/bin/sh
# Builds the image and pushes it (`make image`; the pipeline's build job).
# Tags: <version>-<build>, <version>, and latest when TAG_LATEST=true (the
# default branch). POSIX sh: the docker CI image has no bash.
#   IMAGE=registry.example.org/visitors BUILD_NUMBER=57 VCS_REF=<sha> scripts/build-image.sh
set -eu
cd "$(dirname "$0")/.."

: "${IMAGE:?IMAGE, the repository to push to (the pipeline sets CI_REGISTRY_IMAGE)}"
: "${BUILD_NUMBER:?BUILD_NUMBER, the pipeline number (CI_PIPELINE_IID)}"
version=$(cat version.txt)

docker build --pull \
    --build-arg BUILD_NUMBER="$BUILD_NUMBER" \
    --build-arg VCS_REF="${VCS_REF:-}" \
    --build-arg VERSION="$version" \
    --build-arg BUILD_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --build-arg SOURCE_URL="${SOURCE_URL:-}" \
    --tag "$IMAGE:$version-$BUILD_NUMBER" \
    --tag "$IMAGE:$version" \
    .
docker push "$IMAGE:$version-$BUILD_NUMBER"
docker push "$IMAGE:$version"
if [ "${TAG_LATEST:-false}" = true ]; then
    docker tag "$IMAGE:$version-$BUILD_NUMBER" "$IMAGE:latest"
    docker push "$IMAGE:latest"
fi
echo "pushed $IMAGE:$version-$BUILD_NUMBER"
