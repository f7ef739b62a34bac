package rtpengine_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/callguard/callguard/rtpengine"
)

// A recorder adapter confirms a pause only when rtpengine answered; every
// other outcome is an alarm in words.
func ExampleClient_StopRecording() {
	client, err := rtpengine.Dial("192.0.2.5:2223") // rtpengine's ng port
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	err = client.StopRecording(context.Background(), "1-15759@127.0.0.1")
	var refused *rtpengine.Error
	switch {
	case err == nil:
		fmt.Println("paused: the phone system confirmed")
	case errors.Is(err, rtpengine.ErrTimeout):
		fmt.Println("no confirmation in time: the phone system may still be recording")
	case errors.Is(err, rtpengine.ErrUnknownCall):
		fmt.Println("the phone system's recorder does not know this call")
	case errors.As(err, &refused):
		fmt.Println("the phone system's recorder refused:", refused.Reason)
	default:
		fmt.Println(err)
	}
}
