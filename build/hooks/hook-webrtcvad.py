# The stock hook copies the metadata of the `webrtcvad` distribution; v2m uses
# the `webrtcvad-wheels` build of the same module, which needs no metadata.
datas = []
